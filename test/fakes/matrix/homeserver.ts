// test/fakes/matrix/homeserver.ts — a local Matrix homeserver speaking the client-server API that
// matrix-js-sdk calls (versions, pushrules, filters, long-poll /sync with since tokens, idempotent
// /send by txnId, edits, joins). Tests inject people's messages and read what the bot sent.
import { EventEmitter } from "node:events"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { readBody } from "../httpBody.js"

export interface MatrixEvent {
  readonly event_id: string
  readonly type: string
  readonly sender: string
  readonly room_id: string
  readonly content: Record<string, unknown>
  readonly origin_server_ts: number
  readonly state_key?: string
  /** The txnId the sender used, echoed to the sender only (the SDK matches its local echo by it). */
  readonly txnId?: string
}

export interface FakeHomeserver {
  readonly url: string
  readonly createRoom: (
    roomId: string,
    members: ReadonlyArray<{ readonly userId: string; readonly displayName: string }>,
    options?: { readonly encrypted?: boolean },
  ) => void
  /** A person says something; returns the event id. */
  readonly inject: (roomId: string, sender: string, content: Record<string, unknown>, type?: string) => string
  /** Every event a client sent through /send (one per txnId), in order. */
  readonly sent: () => ReadonlyArray<MatrixEvent>
  /** Resolves with the first sent event (already sent or to come) the predicate accepts. */
  readonly waitForSent: (
    predicate: (event: MatrixEvent) => boolean,
    timeoutMs?: number,
  ) => Promise<MatrixEvent>
  /**
   * From now on a /send is stored (and synced to everyone) at once, but its HTTP answer waits until the
   * returned function is called: a person can then react before the sender learns its event id.
   */
  readonly holdSendAnswers: () => () => void
  /** How many /sync requests clients have completed so far, in total. */
  readonly syncs: () => number
  /** Resolves once a client has completed `count` /sync requests in total. */
  readonly waitForSyncs: (count: number, timeoutMs?: number) => Promise<void>
  /** Paths nobody implemented, to assert the SDK spoke only what the fake knows. */
  readonly unknown: ReadonlyArray<string>
  /** The server goes away (connections cut, port closed); state is kept. */
  readonly stop: () => Promise<void>
  /** Comes back on the same port. */
  readonly start: () => Promise<void>
  readonly close: () => Promise<void>
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { "content-type": "application/json" })
  res.end(JSON.stringify(body))
}

const withTimeout = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fake homeserver: timed out waiting for ${what}`)), ms)
    promise.then(
      (a) => {
        clearTimeout(timer)
        resolve(a)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e instanceof Error ? e : new Error(String(e)))
      },
    )
  })

export const startFakeHomeserver = async (botUserId: string): Promise<FakeHomeserver> => {
  let held: Array<() => void> | undefined
  const log: Array<MatrixEvent> = []
  const sentByTxn = new Map<string, MatrixEvent>()
  const sentList: Array<MatrixEvent> = []
  const unknown: Array<string> = []
  const changes = new EventEmitter()
  changes.setMaxListeners(100)
  let syncCount = 0
  let counter = 0
  const nextId = () => `$ev${++counter}`

  const append = (event: Omit<MatrixEvent, "event_id" | "origin_server_ts">): MatrixEvent => {
    const full: MatrixEvent = { ...event, event_id: nextId(), origin_server_ts: Date.now() }
    log.push(full)
    changes.emit("event")
    return full
  }

  const joined = (roomId: string, upTo = log.length): boolean => {
    let member = false
    for (const e of log.slice(0, upTo))
      if (e.room_id === roomId && e.type === "m.room.member" && e.state_key === botUserId)
        member = e.content["membership"] === "join"
    return member
  }

  const rooms = (): ReadonlyArray<string> => [...new Set(log.map((e) => e.room_id))]

  const currentState = (roomId: string): ReadonlyArray<MatrixEvent> => {
    const byKey = new Map<string, MatrixEvent>()
    for (const e of log)
      if (e.room_id === roomId && e.state_key !== undefined) byKey.set(`${e.type}|${e.state_key}`, e)
    return [...byKey.values()]
  }

  const wire = (e: MatrixEvent) => {
    const { txnId, room_id: _room, ...rest } = e
    return {
      ...rest,
      unsigned: {
        age: 0,
        ...(txnId !== undefined && e.sender === botUserId ? { transaction_id: txnId } : {}),
      },
    }
  }

  const syncBody = (since: number | undefined) => {
    const join: Record<string, unknown> = {}
    for (const roomId of rooms()) {
      if (!joined(roomId)) continue
      const fresh = since === undefined || !joined(roomId, since)
      const timeline = log
        .slice(since ?? 0)
        .filter((e) => e.room_id === roomId && (since !== undefined || e.state_key === undefined))
      if (!fresh && timeline.length === 0) continue
      join[roomId] = {
        state: { events: fresh ? currentState(roomId).map(wire) : [] },
        timeline: { events: timeline.map(wire), limited: false, prev_batch: `p${since ?? 0}` },
        ephemeral: { events: [] },
        account_data: { events: [] },
        unread_notifications: {},
        summary: {},
      }
    }
    return {
      next_batch: `s${log.length}`,
      rooms: { join, invite: {}, leave: {} },
      presence: { events: [] },
      account_data: { events: [] },
      to_device: { events: [] },
      device_lists: { changed: [], left: [] },
    }
  }

  const waitForChange = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        changes.off("event", done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      changes.on("event", done)
    })

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://fake")
    const path = decodeURIComponent(url.pathname)
    const method = req.method ?? "GET"
    const raw = await readBody(req)
    const body = raw === "" ? {} : (JSON.parse(raw) as Record<string, unknown>)
    if (path === "/_matrix/client/versions")
      return json(res, 200, { versions: ["v1.1", "v1.5", "v1.9", "v1.11"], unstable_features: {} })
    if (!path.startsWith("/_matrix/client/v3/") && !path.startsWith("/_matrix/client/v1/")) {
      unknown.push(`${method} ${path}`)
      return json(res, 404, { errcode: "M_UNRECOGNIZED", error: "unknown path" })
    }
    const rest = path.replace(/^\/_matrix\/client\/v[13]\//, "")
    let m: RegExpMatchArray | null
    if (rest === "account/whoami") return json(res, 200, { user_id: botUserId, device_id: "FAKEDEVICE" })
    if (rest === "pushrules/" || rest === "pushrules") return json(res, 200, { global: {} })
    if (rest === "capabilities") return json(res, 200, { capabilities: {} })
    if ((m = rest.match(/^user\/([^/]+)\/filter$/)) && method === "POST")
      return json(res, 200, { filter_id: "1" })
    if ((m = rest.match(/^user\/([^/]+)\/filter\/([^/]+)$/))) return json(res, 200, {})
    if ((m = rest.match(/^profile\/([^/]+)(\/displayname)?$/))) {
      const member = [...log].reverse().find((e) => e.type === "m.room.member" && e.state_key === m?.[1])
      return json(res, 200, { displayname: member?.content["displayname"] })
    }
    if (rest === "sync") {
      const since = url.searchParams.get("since")
      const sincePos = since === null ? undefined : Number(since.slice(1))
      const timeout = Number(url.searchParams.get("timeout") ?? "0")
      if (sincePos !== undefined && sincePos >= log.length && timeout > 0)
        await waitForChange(Math.min(timeout, 2000))
      if (res.destroyed) return
      syncCount++
      changes.emit("sync")
      return json(res, 200, syncBody(sincePos))
    }
    if ((m = rest.match(/^rooms\/([^/]+)\/send\/([^/]+)\/([^/]+)$/)) && method === "PUT") {
      const [, roomId = "", type = "", txnId = ""] = m
      const key = `${roomId}|${txnId}`
      const previous = sentByTxn.get(key)
      if (previous !== undefined) return json(res, 200, { event_id: previous.event_id })
      const event = append({ type, sender: botUserId, room_id: roomId, content: body, txnId })
      sentByTxn.set(key, event)
      sentList.push(event)
      changes.emit("sent")
      if (held !== undefined) return void held.push(() => json(res, 200, { event_id: event.event_id }))
      return json(res, 200, { event_id: event.event_id })
    }
    if ((m = rest.match(/^join\/([^/]+)$/)) && method === "POST") {
      const roomId = m[1] ?? ""
      if (!rooms().includes(roomId)) return json(res, 404, { errcode: "M_NOT_FOUND", error: "no such room" })
      if (!joined(roomId))
        append({
          type: "m.room.member",
          sender: botUserId,
          room_id: roomId,
          state_key: botUserId,
          content: { membership: "join" },
        })
      return json(res, 200, { room_id: roomId })
    }
    if ((m = rest.match(/^rooms\/([^/]+)\/(members|joined_members)$/))) {
      return json(res, 200, {
        chunk: currentState(m[1] ?? "")
          .filter((e) => e.type === "m.room.member")
          .map(wire),
      })
    }
    if ((m = rest.match(/^rooms\/([^/]+)\/state\/([^/]+)\/?(.*)$/))) {
      const found = currentState(m[1] ?? "").find((e) => e.type === m?.[2] && e.state_key === (m?.[3] ?? ""))
      return found === undefined
        ? json(res, 404, { errcode: "M_NOT_FOUND", error: "no such state" })
        : json(res, 200, found.content)
    }
    if ((m = rest.match(/^rooms\/([^/]+)\/state$/))) return json(res, 200, currentState(m[1] ?? "").map(wire))
    unknown.push(`${method} ${path}`)
    return json(res, 404, { errcode: "M_UNRECOGNIZED", error: "unknown path" })
  }

  let server: Server | undefined
  let port = 0
  const start = () =>
    new Promise<void>((resolve) => {
      const s = createServer((req, res) => {
        handle(req, res).catch((e: unknown) => {
          unknown.push(`failure: ${String(e)}`)
          if (!res.headersSent) json(res, 500, { errcode: "M_UNKNOWN", error: String(e) })
        })
      })
      server = s
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as AddressInfo).port
        resolve()
      })
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      const s = server
      server = undefined
      if (s === undefined) return resolve()
      s.close(() => resolve())
      s.closeAllConnections()
    })
  await start()

  const waitFor = <A>(
    what: string,
    check: () => A | undefined,
    event: string,
    timeoutMs: number,
  ): Promise<A> => {
    const now = check()
    if (now !== undefined) return Promise.resolve(now)
    let listener: () => void = () => undefined
    return withTimeout(
      new Promise<A>((resolve) => {
        listener = () => {
          const found = check()
          if (found !== undefined) resolve(found)
        }
        changes.on(event, listener)
      }),
      timeoutMs,
      what,
    ).finally(() => changes.off(event, listener))
  }

  return {
    url: `http://127.0.0.1:${port}`,
    createRoom: (roomId, members, options) => {
      const creator = members[0]?.userId ?? botUserId
      append({
        type: "m.room.create",
        sender: creator,
        room_id: roomId,
        state_key: "",
        content: { creator, room_version: "10" },
      })
      for (const member of members)
        append({
          type: "m.room.member",
          sender: member.userId,
          room_id: roomId,
          state_key: member.userId,
          content: { membership: "join", displayname: member.displayName },
        })
      if (options?.encrypted === true)
        append({
          type: "m.room.encryption",
          sender: creator,
          room_id: roomId,
          state_key: "",
          content: { algorithm: "m.megolm.v1.aes-sha2" },
        })
    },
    inject: (roomId, sender, content, type = "m.room.message") =>
      append({ type, sender, room_id: roomId, content }).event_id,
    sent: () => sentList,
    holdSendAnswers: () => {
      held ??= []
      return () => {
        const answers = held ?? []
        held = undefined
        for (const answer of answers) answer()
      }
    },
    waitForSent: (predicate, timeoutMs = 10_000) =>
      waitFor("a sent event", () => sentList.find(predicate), "sent", timeoutMs),
    syncs: () => syncCount,
    waitForSyncs: (count, timeoutMs = 10_000) =>
      waitFor(`${count} syncs`, () => (syncCount >= count ? true : undefined), "sync", timeoutMs).then(
        () => undefined,
      ),
    unknown,
    stop,
    start,
    close: async () => {
      await stop()
      changes.removeAllListeners()
    },
  }
}
