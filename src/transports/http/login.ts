// src/transports/http/login.ts — the browser's way in when a token is in force: the login page a
// browser gets instead of the app, POST /login (token -> session cookie) and POST /logout. The access
// guard (AccessGuard.ts) calls these after its Host and Origin checks.
import { Either, Schema } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { escapeHtml, htmlHeaders, standalonePolicy } from "./pageHeaders.js"
import {
  cookieValues,
  type LoginLimiter,
  sessionCookie,
  type Sessions,
  sessionSetCookie,
  tokenMatches,
} from "./sessions.js"

const css = [
  ":root{color-scheme:light dark;font-family:system-ui,sans-serif}",
  "body{display:grid;place-items:center;min-height:100vh;margin:0}",
  "main{max-width:26rem;padding:1.5rem}",
  "h1{font-size:1.4rem;margin:0 0 .5rem}",
  "label{display:block;margin:1rem 0 .25rem;font-weight:600}",
  "input{box-sizing:border-box;width:100%;padding:.5rem;font:inherit}",
  "button{margin-top:1rem;padding:.5rem 1.25rem;font:inherit}",
  "p{line-height:1.4}",
  ".error{color:#c62828;font-weight:600}",
  "@media (prefers-color-scheme:dark){.error{color:#ff8a80}}",
].join("")

const policy = standalonePolicy(css)

/** Where a login may send the browser back to: a path on this server, never another site. */
const safeNext = (next: string | null | undefined): string =>
  next !== null && next !== undefined && /^\/(?![/\\])[^\s\\]*$/.test(next) ? next : "/"

/**
 * The login page: no script, no app code and nothing about the project, only a form that posts the
 * token to /login and comes back to `next`.
 */
export const loginPageHtml = (next: string, error?: string): string =>
  [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>huskies: log in</title><style>${css}</style></head>`,
    "<body><main>",
    "<h1>Log in to huskies</h1>",
    "<p>This server asks for its token. It is the value of <code>HUSKIES_TOKEN</code> or " +
      "<code>[server] token</code> where the server runs, or the contents of " +
      "<code>.huskies/run/token</code> in its project.</p>",
    error === undefined ? "" : `<p class="error" role="alert">${escapeHtml(error)}</p>`,
    '<form method="post" action="/login">',
    `<input type="hidden" name="next" value="${escapeHtml(safeNext(next))}">`,
    // Password managers file a password under a user name; there is none, so this one names the server.
    '<input type="text" name="username" value="huskies" autocomplete="username" hidden>',
    '<label for="token">Token</label>',
    '<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>',
    '<button type="submit">Log in</button>',
    "</form></main></body></html>",
  ].join("\n")

/** Sends the login page with `status` (401 when a page was asked for without a credential). */
export const sendLoginPage = (res: ServerResponse, status: number, next: string, error?: string): void => {
  const body = loginPageHtml(next, error)
  res.writeHead(status, {
    ...htmlHeaders(policy),
    "cache-control": "no-store",
    "content-length": String(Buffer.byteLength(body)),
  })
  res.end(body)
}

const LoginJson = Schema.parseJson(Schema.Struct({ token: Schema.String }))

type LoginForm =
  | { readonly _tag: "Form"; readonly token: string | null; readonly next: string }
  | { readonly _tag: "Json"; readonly token: string }
  | { readonly _tag: "Bad"; readonly status: number; readonly message: string }

/** A login body is a token: a few KiB is plenty. */
const maxLoginBytes = 8 * 1024

const mediaType = (req: IncomingMessage): string =>
  (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? ""

const readLogin = (req: IncomingMessage): Promise<LoginForm> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let settled = false
    const settle = (result: LoginForm) => {
      if (settled) return
      settled = true
      resolve(result)
    }
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > maxLoginBytes)
        return settle({ _tag: "Bad", status: 413, message: `a login body is at most ${maxLoginBytes} bytes` })
      chunks.push(chunk)
    })
    req.on("error", (error) =>
      settle({ _tag: "Bad", status: 400, message: `could not read the body: ${error.message}` }),
    )
    // A client gone before its body ended: nothing waits on this request any more ('end' comes first otherwise).
    req.on("close", () => settle({ _tag: "Bad", status: 400, message: "the request ended before its body" }))
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8")
      const type = mediaType(req)
      if (type === "application/x-www-form-urlencoded") {
        const form = new URLSearchParams(text)
        return settle({ _tag: "Form", token: form.get("token"), next: safeNext(form.get("next")) })
      }
      if (type === "application/json") {
        const decoded = Schema.decodeUnknownEither(LoginJson)(text)
        return settle(
          Either.isRight(decoded)
            ? { _tag: "Json", token: decoded.right.token }
            : { _tag: "Bad", status: 400, message: 'the body must be JSON {"token": "<the token>"}' },
        )
      }
      settle({
        _tag: "Bad",
        status: 415,
        message: 'send the token as a form (token=...) or as JSON {"token": ...}',
      })
    })
  })

const sendJson = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    ...headers,
  })
  res.end(text)
}

const overTls = (req: IncomingMessage): boolean => "encrypted" in req.socket && req.socket.encrypted === true

export interface LoginDoor {
  /** Answers POST /login and POST /logout; false (untouched) for any other request. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => boolean
}

export const makeLoginDoor = (
  digest: Uint8Array,
  sessions: Sessions,
  limiter: LoginLimiter,
  logDefect: (message: string, cause: unknown) => void,
): LoginDoor => {
  const login = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const address = req.socket.remoteAddress ?? "unknown"
    const form = await readLogin(req)
    if (form._tag === "Bad") return sendJson(res, form.status, { error: form.message })
    const next = form._tag === "Form" ? form.next : "/"
    const wait = limiter.waitMillis(address)
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000)
      const message = `Too many failed logins from your address: try again in ${seconds} s.`
      res.setHeader("retry-after", String(seconds))
      return form._tag === "Form"
        ? sendLoginPage(res, 429, next, message)
        : sendJson(res, 429, { error: message })
    }
    if (form.token === null || !tokenMatches(digest, form.token)) {
      limiter.failed(address)
      const message = "That is not this server's token. Check it and try again."
      return form._tag === "Form"
        ? sendLoginPage(res, 401, next, message)
        : sendJson(res, 401, { error: message })
    }
    limiter.succeeded(address)
    const cookie = sessionSetCookie(sessions.mint(), overTls(req))
    if (form._tag === "Json") {
      res.writeHead(204, { "set-cookie": cookie, "cache-control": "no-store" })
      return void res.end()
    }
    // 303: the browser follows with a GET, so a reload does not post the token again.
    res.writeHead(303, {
      "set-cookie": cookie,
      location: next,
      "cache-control": "no-store",
      "content-length": "0",
    })
    res.end()
  }

  const logout = (req: IncomingMessage, res: ServerResponse): void => {
    for (const id of cookieValues(req.headers.cookie, sessionCookie)) sessions.revoke(id)
    // Nothing of the body is needed; let Node discard it.
    req.resume()
    const cookie = sessionSetCookie(undefined, overTls(req))
    if (mediaType(req) === "application/x-www-form-urlencoded") {
      res.writeHead(303, {
        "set-cookie": cookie,
        location: "/",
        "cache-control": "no-store",
        "content-length": "0",
      })
      return void res.end()
    }
    res.writeHead(204, { "set-cookie": cookie, "cache-control": "no-store" })
    res.end()
  }

  return {
    handle: (req, res) => {
      // A GET of /login is a page like any other: the login page without a session, the app with one.
      if (req.method !== "POST") return false
      const path = (req.url ?? "/").split("?")[0]
      if (path === "/logout") logout(req, res)
      else if (path === "/login")
        login(req, res).catch((error: unknown) => {
          // A bug: logged, and the browser still gets an answer rather than a hanging request.
          logDefect("POST /login failed", error)
          if (!res.headersSent) sendJson(res, 500, { error: "login failed: the server's log has details" })
          else res.destroy()
        })
      else return false
      return true
    },
  }
}
