// test/transports/sync/frames.test.ts — our y-websocket framing against y-protocols' own encoder and decoder
// (byte for byte both ways), the history's sync messages beside them, a frame cut short is refused, and the
// reconnect backoff stays within its cap.
import { describe, expect, it } from "vitest"
import * as decoding from "lib0/decoding"
import * as encoding from "lib0/encoding"
import * as awarenessProtocol from "y-protocols/awareness"
import * as syncProtocol from "y-protocols/sync"
import * as Y from "yjs"
import { decodeFrame, encodeFrame, FrameError, messageHistory } from "../../../src/transports/sync/frames.js"
import { backoffDelay } from "../../../src/transports/sync/PeerActor.js"

const docWith = (n: number) => {
  const doc = new Y.Doc()
  for (let i = 0; i < n; i++) doc.getMap("items").set(`k${i}`, "x".repeat(i))
  return doc
}

const yProtocols = (write: (e: encoding.Encoder) => void) => {
  const e = encoding.createEncoder()
  write(e)
  return encoding.toUint8Array(e)
}

describe("y-websocket frames", () => {
  it("are the bytes y-protocols writes, and read what it writes", () => {
    const doc = docWith(200)
    const stateVector = Y.encodeStateVector(doc)
    const update = Y.encodeStateAsUpdate(doc)
    const step1 = yProtocols((e) => {
      encoding.writeVarUint(e, 0)
      syncProtocol.writeSyncStep1(e, doc)
    })
    expect(encodeFrame({ _tag: "SyncStep1", stateVector })).toEqual(step1)
    expect(decodeFrame(step1)).toEqual({ _tag: "SyncStep1", stateVector })
    const live = yProtocols((e) => {
      encoding.writeVarUint(e, 0)
      syncProtocol.writeUpdate(e, update)
    })
    expect(encodeFrame({ _tag: "Update", update })).toEqual(live)
    expect(decodeFrame(live)).toEqual({ _tag: "Update", update })

    // Our step 2 is read by y-protocols into a document that then equals the source.
    const fresh = new Y.Doc()
    const decoder = decoding.createDecoder(encodeFrame({ _tag: "SyncStep2", update }))
    expect(decoding.readVarUint(decoder)).toBe(0)
    syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), fresh, null)
    expect(fresh.getMap("items").toJSON()).toEqual(doc.getMap("items").toJSON())

    const awareness = new awarenessProtocol.Awareness(new Y.Doc())
    awareness.setLocalState({ node: "node-a" })
    const states = awarenessProtocol.encodeAwarenessUpdate(awareness, [awareness.clientID])
    const frame = yProtocols((e) => {
      encoding.writeVarUint(e, 1)
      encoding.writeVarUint8Array(e, states)
    })
    expect(encodeFrame({ _tag: "Awareness", update: states })).toEqual(frame)
    expect(decodeFrame(frame)).toEqual({ _tag: "Awareness", update: states })
    awareness.destroy()
  })

  it("carry the history's sync messages as message type 30, the sync message inside as y-protocols writes it", () => {
    const doc = docWith(50)
    const stateVector = Y.encodeStateVector(doc)
    const update = Y.encodeStateAsUpdate(doc)
    const frames = [
      { _tag: "HistoryStep1", stateVector },
      { _tag: "HistoryStep2", update },
      { _tag: "HistoryUpdate", update },
    ] as const
    const pipeline = [
      encodeFrame({ _tag: "SyncStep1", stateVector }),
      encodeFrame({ _tag: "SyncStep2", update }),
      encodeFrame({ _tag: "Update", update }),
    ]
    frames.forEach((frame, i) => {
      const bytes = encodeFrame(frame)
      expect(decodeFrame(bytes)).toEqual(frame)
      // A y-websocket reader sees a message type it does not use; after it, the same bytes as the pipeline's.
      const decoder = decoding.createDecoder(bytes)
      expect(decoding.readVarUint(decoder)).toBe(messageHistory)
      expect(bytes.subarray(1)).toEqual(pipeline[i]!.subarray(1))
    })
    expect(() => decodeFrame(new Uint8Array([messageHistory, 7, 0]))).toThrow(FrameError)
  })

  it("refuses a frame cut short, and passes over message types it does not speak", () => {
    const whole = encodeFrame({ _tag: "Update", update: new Uint8Array(300).fill(7) })
    expect(() => decodeFrame(whole.subarray(0, 100))).toThrow(FrameError)
    expect(() => decodeFrame(new Uint8Array([0x80]))).toThrow(FrameError)
    expect(decodeFrame(new Uint8Array([3]))).toEqual({ _tag: "Other", type: 3 })
  })
})

describe("reconnect backoff", () => {
  it("doubles from the first delay, never passes the cap, and is jittered within the upper half", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 100, 10_000, 1))).toEqual([100, 200, 400, 800])
    expect(backoffDelay(30, 100, 10_000, 1)).toBe(10_000)
    expect(backoffDelay(30, 100, 10_000, 0)).toBe(5_000)
    for (let n = 1; n < 40; n++) {
      const delay = backoffDelay(n, 250, 10_000, Math.random())
      expect(delay).toBeGreaterThanOrEqual(Math.min(10_000, 250 * 2 ** (n - 1)) / 2 - 1)
      expect(delay).toBeLessThanOrEqual(10_000)
    }
  })
})
