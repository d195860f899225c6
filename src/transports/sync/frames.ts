// src/transports/sync/frames.ts — y-websocket's binary framing (lib0 varUint message type, then the body):
// 0 = sync (step 1: a state vector; step 2 and update: a Yjs update), 1 = awareness, byte for byte what
// y-websocket and y-protocols speak; and 30 = the same sync messages for the items' history document,
// between nodes only (a y-websocket client is never sent one). Pure; used by the /crdt-sync server and the
// peer actor.

export const messageSync = 0
export const messageAwareness = 1
/** The history document's sync messages (y-websocket uses 0 to 3). */
export const messageHistory = 30
export const syncStep1 = 0
export const syncStep2 = 1
export const syncUpdate = 2

export type Frame =
  | { readonly _tag: "SyncStep1"; readonly stateVector: Uint8Array }
  | { readonly _tag: "SyncStep2"; readonly update: Uint8Array }
  | { readonly _tag: "Update"; readonly update: Uint8Array }
  | { readonly _tag: "Awareness"; readonly update: Uint8Array }
  | { readonly _tag: "HistoryStep1"; readonly stateVector: Uint8Array }
  | { readonly _tag: "HistoryStep2"; readonly update: Uint8Array }
  | { readonly _tag: "HistoryUpdate"; readonly update: Uint8Array }
  /** A message type this side does not speak (y-websocket's auth or awareness query): ignored. */
  | { readonly _tag: "Other"; readonly type: number }

const varUintBytes = (value: number): Array<number> => {
  const out: Array<number> = []
  let n = value
  while (n > 0x7f) {
    out.push(0x80 | (n & 0x7f))
    n = Math.floor(n / 128)
  }
  out.push(n)
  return out
}

/** `types` as varUints, then `body` as a varUint8Array (its length, then its bytes). */
export const encode = (types: ReadonlyArray<number>, body: Uint8Array): Uint8Array => {
  const head = [...types.flatMap(varUintBytes), ...varUintBytes(body.length)]
  const out = new Uint8Array(head.length + body.length)
  out.set(head, 0)
  out.set(body, head.length)
  return out
}

export const encodeFrame = (frame: Exclude<Frame, { readonly _tag: "Other" }>): Uint8Array => {
  switch (frame._tag) {
    case "SyncStep1":
      return encode([messageSync, syncStep1], frame.stateVector)
    case "SyncStep2":
      return encode([messageSync, syncStep2], frame.update)
    case "Update":
      return encode([messageSync, syncUpdate], frame.update)
    case "Awareness":
      return encode([messageAwareness], frame.update)
    case "HistoryStep1":
      return encode([messageHistory, syncStep1], frame.stateVector)
    case "HistoryStep2":
      return encode([messageHistory, syncStep2], frame.update)
    case "HistoryUpdate":
      return encode([messageHistory, syncUpdate], frame.update)
  }
}

/** A frame that cannot be read (truncated, or a length past its end). */
export class FrameError extends Error {
  override readonly name = "FrameError"
}

export class Reader {
  private at = 0
  constructor(private readonly bytes: Uint8Array) {}
  varUint(): number {
    let value = 0
    let scale = 1
    for (;;) {
      const byte = this.bytes[this.at++]
      if (byte === undefined) throw new FrameError("the frame ends inside a number")
      value += (byte & 0x7f) * scale
      if (byte < 0x80) return value
      scale *= 128
      if (scale > 2 ** 53) throw new FrameError("a number in the frame is too large")
    }
  }
  varBytes(): Uint8Array {
    const length = this.varUint()
    if (this.at + length > this.bytes.length) throw new FrameError("a length runs past the frame's end")
    const out = this.bytes.subarray(this.at, this.at + length)
    this.at += length
    return out
  }
}

/** Reads one binary frame; throws FrameError when it is not one. */
export const decodeFrame = (bytes: Uint8Array): Frame => {
  const reader = new Reader(bytes)
  const type = reader.varUint()
  if (type === messageAwareness) return { _tag: "Awareness", update: reader.varBytes() }
  if (type !== messageSync && type !== messageHistory) return { _tag: "Other", type }
  const step = reader.varUint()
  const body = reader.varBytes()
  const history = type === messageHistory
  if (step === syncStep1)
    return history ? { _tag: "HistoryStep1", stateVector: body } : { _tag: "SyncStep1", stateVector: body }
  if (step === syncStep2)
    return history ? { _tag: "HistoryStep2", update: body } : { _tag: "SyncStep2", update: body }
  if (step === syncUpdate)
    return history ? { _tag: "HistoryUpdate", update: body } : { _tag: "Update", update: body }
  throw new FrameError(`unknown ${history ? "history " : ""}sync message ${step}`)
}
