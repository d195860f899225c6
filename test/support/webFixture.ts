// test/support/webFixture.ts — a built web app as Vite lays it out (index.html + hashed assets) in a temp
// dir, with a secret file beside it that no path may reach, and `send`, one raw HTTP request to a
// server on 127.0.0.1 with any headers. Used by the web UI and login tests under test/transports/http.
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { join } from "node:path"
import { brotliCompressSync } from "node:zlib"

export interface WebFixture {
  /** The directory to serve (dist/web's stand-in). */
  readonly root: string
  readonly indexHtml: string
  readonly scriptPath: string
  readonly script: string
  readonly stylePath: string
  readonly style: string
  /** Its `.br` sibling is written by the "build" and must be what a br client gets. */
  readonly precompressedPath: string
  readonly precompressedBr: Buffer
  /** Text of a file outside `root` (and a symlink inside assets/ pointing at it). */
  readonly secret: string
}

/** The page marker every test looks for to tell the app's index.html from other pages. */
export const appMarker = "huskies-app-root"

/**
 * Writes the fixture under `dir`. The script does what the real app does first: renders, and opens
 * its WebSocket to /rpc; it reports in the page title, so a browser test can see it ran.
 */
export const writeWebFixture = (dir: string): WebFixture => {
  const root = join(dir, "web")
  mkdirSync(join(root, "assets"), { recursive: true })
  const secret = `secret-${Math.random().toString(36).slice(2)}`
  writeFileSync(join(dir, "secret.txt"), secret)
  symlinkSync(join(dir, "secret.txt"), join(root, "assets", "leak-00000000.js"))
  // Long enough (> 1 KiB) to be compressed.
  const script = [
    `document.getElementById("${appMarker}").textContent = "app loaded";`,
    `const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/rpc");`,
    `socket.onclose = () => { document.title = "app ran"; };`,
    ...Array.from({ length: 60 }, (_, i) => `// padding line ${i} so that the file is worth compressing`),
  ].join("\n")
  const style = `body { font-family: sans-serif; }\n${"/* padding */\n".repeat(100)}`
  const scriptPath = "/assets/index-B7xK2mQa.js"
  const stylePath = "/assets/index-Cq9Lp0Ze.css"
  const precompressedPath = "/assets/vendor-D4fG8hJk.js"
  const vendor = `export const vendor = ${JSON.stringify("v".repeat(4000))};\n`
  const precompressedBr = brotliCompressSync(Buffer.from(vendor))
  writeFileSync(join(root, scriptPath), script)
  writeFileSync(join(root, stylePath), style)
  writeFileSync(join(root, precompressedPath), vendor)
  writeFileSync(join(root, `${precompressedPath}.br`), precompressedBr)
  writeFileSync(join(root, "favicon.svg"), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  const indexHtml = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><title>huskies</title>',
    `<script type="module" crossorigin src="${scriptPath}"></script>`,
    `<link rel="stylesheet" crossorigin href="${stylePath}">`,
    `</head><body><div id="${appMarker}"></div></body></html>`,
  ].join("\n")
  writeFileSync(join(root, "index.html"), indexHtml)
  return { root, indexHtml, scriptPath, script, stylePath, style, precompressedPath, precompressedBr, secret }
}

export interface Answer {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  /** The body as sent (still compressed when the server compressed it). */
  readonly raw: Buffer
  readonly body: string
}

/** One HTTP request to the server's 127.0.0.1 port; the path is sent exactly as given (no normalising). */
export const send = (
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: new URL(url).port,
        method: options.method ?? "GET",
        path: options.path,
        headers: options.headers,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("end", () => {
          const raw = Buffer.concat(chunks)
          resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, body: raw.toString("utf8") })
        })
      },
    )
    req.on("timeout", () => req.destroy(new Error("no answer within 10 s")))
    req.on("error", reject)
    req.end(options.body)
  })

/** The Content-Security-Policy's directives by name. */
export const cspOf = (answer: Answer): Map<string, string> => {
  const policy = String(answer.headers["content-security-policy"] ?? "")
  return new Map(
    policy
      .split(";")
      .map((d) => d.trim())
      .filter((d) => d !== "")
      .map((d) => {
        const [name = "", ...rest] = d.split(/\s+/)
        return [name, rest.join(" ")] as const
      }),
  )
}
