// test/fakes/modelServer.ts — the HTTP shell every fake model API shares: listens on 127.0.0.1 with
// an ephemeral port, records each request, hands main requests their session's next scripted turn,
// and collects what nobody scripted. A provider module (anthropic.ts) supplies the wire protocol.
import { Effect, type Scope } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { type RecordedRequest, type RequestKind, Scripts, type Turn, type Unexpected } from "./modelScript.js"
import { sendJson } from "./sse.js"
import { readBody } from "./httpBody.js"

/** One request as the provider module sees it. */
export interface Exchange {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  readonly res: ServerResponse
}

export interface Answering {
  readonly requestIndex: number
  readonly kind: RequestKind
  readonly sessionId: string | undefined
  /** For main requests: the scripted turn, or undefined when the script ran out. */
  readonly scripted: { readonly turn: Turn; readonly index: number } | undefined
  /** Reports something the test did not plan for; it shows up in `unexpected`. */
  readonly flag: (reason: string) => void
}

/** The wire protocol of one provider. */
export interface Protocol {
  readonly provider: string
  /** Whose request this is and whether it is part of the conversation (see each provider's rule). */
  readonly classify: (exchange: Exchange) => {
    readonly sessionId: string | undefined
    readonly kind: RequestKind
  }
  readonly answer: (exchange: Exchange, answering: Answering) => void | Promise<void>
}

export interface FakeModelApi {
  /** Base URL to hand the CLI (no trailing slash). */
  readonly url: string
  /** Appends turns to the session's script (`anySession` for every session without its own). */
  readonly script: (sessionId: string, turns: ReadonlyArray<Turn>) => void
  /** Every request received so far, in order. */
  readonly requests: ReadonlyArray<RecordedRequest>
  readonly requestsFor: (sessionId: string, kind?: RequestKind) => ReadonlyArray<RecordedRequest>
  /** Main requests after a script ran out, unknown endpoints, failures of the fake itself. */
  readonly unexpected: ReadonlyArray<Unexpected>
  readonly close: () => Promise<void>
}

const parseBody = (text: string): unknown => {
  if (text === "") return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

const flatHeaders = (req: IncomingMessage): Record<string, string> =>
  Object.fromEntries(
    Object.entries(req.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(", ") : value]],
    ),
  )

export const startFakeModelApi = (protocol: Protocol): Promise<FakeModelApi> => {
  const scripts = new Scripts()
  const requests: Array<RecordedRequest> = []
  const unexpected: Array<Unexpected> = []
  // Scripted delays still running; close() ends them so no timer outlives the fake.
  const delays = new Set<() => void>()
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        delays.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      delays.add(wake)
    })

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const exchange: Exchange = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: flatHeaders(req),
      body: parseBody(await readBody(req)),
      res,
    }
    const requestIndex = requests.length
    const { sessionId, kind } = protocol.classify(exchange)
    const flag = (reason: string) => unexpected.push({ requestIndex, sessionId, reason })
    const scripted = kind === "main" ? scripts.next(sessionId) : undefined
    requests.push({
      index: requestIndex,
      provider: protocol.provider,
      method: exchange.method,
      path: exchange.path,
      query: exchange.query,
      headers: exchange.headers,
      body: exchange.body,
      sessionId,
      kind,
      turn: scripted?.index,
    })
    if (kind === "main" && scripted === undefined)
      flag(`script exhausted: ${exchange.method} ${exchange.path} for session ${sessionId ?? "(none)"}`)
    const delay = scripted?.turn.delayMs
    if (delay !== undefined && delay > 0) await sleep(delay)
    await protocol.answer(exchange, { requestIndex, kind, sessionId, scripted, flag })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      unexpected.push({ requestIndex: -1, sessionId: undefined, reason: `fake failed: ${String(error)}` })
      sendJson(res, 500, { type: "error", error: { type: "api_error", message: String(error) } })
    })
  })

  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        script: (sessionId, turns) => scripts.add(sessionId, turns),
        requests,
        requestsFor: (sessionId, kind) =>
          requests.filter((r) => r.sessionId === sessionId && (kind === undefined || r.kind === kind)),
        unexpected,
        close: () =>
          new Promise<void>((done) => {
            // The CLIs keep connections alive; without this, close() waits for them to idle out.
            server.closeAllConnections()
            for (const wake of [...delays]) wake()
            server.close(() => done())
          }),
      })
    })
  })
}

/** A fake owned by the Effect scope: closed when the scope closes. */
export const scopedFake = <F extends FakeModelApi>(
  start: () => Promise<F>,
): Effect.Effect<F, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(start), (fake) => Effect.promise(() => fake.close()))
