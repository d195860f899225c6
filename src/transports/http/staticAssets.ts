// src/transports/http/staticAssets.ts — the web app's files from dist/web/ (Vite's build) at /: hashed
// assets cached for a year, index.html for every page path (the app routes in the browser), and a page
// that says to build when there is nothing to serve. HttpApp calls it for requests the guard admitted.
import { createHash } from "node:crypto"
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs"
import type { IncomingMessage, ServerResponse } from "node:http"
import { extname, join, resolve, sep } from "node:path"
import { promisify } from "node:util"
import { brotliCompress, constants as zlib, gzip } from "node:zlib"
import { packageRoot } from "../../layers/BuildInfo.js"
import { appPolicy, baseHeaders, htmlHeaders, standalonePolicy } from "./pageHeaders.js"

/** Where `npm run build` puts the web app: dist/web/ of the installed package. */
export const defaultWebRoot = (): string => join(packageRoot(), "dist", "web")

/** Paths that belong to the server's APIs: never answered with the app's page nor the login page. */
export const isApiPath = (path: string): boolean => /^\/(mcp|rpc|health|crdt-sync|ws|assets)(\/|$)/.test(path)

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
}
/** Worth compressing: text. Images and fonts are compressed already. */
const compressible = new Set([
  ".html",
  ".js",
  ".mjs",
  ".css",
  ".json",
  ".map",
  ".webmanifest",
  ".svg",
  ".txt",
  ".wasm",
])
/** Below this a compressed body saves less than its headers cost. */
const minCompressBytes = 1024

type Encoding = "br" | "gzip"

/** One file as read: its bytes, validated against the file's size and mtime on every request. */
interface Entry {
  readonly size: number
  readonly mtimeMs: number
  readonly body: Buffer
  readonly hash: string
  readonly type: string
  readonly compressible: boolean
  /** Each encoding made once: a precompressed sibling (`.br`, `.gz`) if the build wrote one, else zlib's. */
  readonly encoded: Map<Encoding, Promise<Buffer>>
}

const brotli = promisify(brotliCompress)
const gzipped = promisify(gzip)

const encode = (body: Buffer, encoding: Encoding): Promise<Buffer> =>
  encoding === "br"
    ? brotli(body, {
        params: {
          [zlib.BROTLI_PARAM_QUALITY]: 9,
          [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
          [zlib.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      })
    : gzipped(body, { level: 9 })

/** The encodings a client takes, by its Accept-Encoding (`q=0` refuses one), best first. */
export const acceptedEncodings = (header: string | undefined): ReadonlyArray<Encoding> => {
  const taken = new Set<string>()
  for (const part of (header ?? "").split(",")) {
    const [name, ...params] = part.split(";").map((s) => s.trim().toLowerCase())
    const q = params.find((p) => p.startsWith("q="))
    if (name !== undefined && name !== "" && (q === undefined || Number(q.slice(2)) > 0)) taken.add(name)
  }
  return (["br", "gzip"] as const).filter((e) => taken.has(e))
}

/** Every file served is cached; past this many bytes the cache starts again (a rebuilt app, say). */
const maxCacheBytes = 64 * 1024 * 1024

export interface WebAssets {
  /** Answers a GET or HEAD of the app; false (untouched) for anything the router answers instead. */
  readonly serve: (req: IncomingMessage, res: ServerResponse) => boolean
}

const notBuiltCss = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}"
const notBuiltPage = [
  "<!doctype html>",
  '<html lang="en"><head><meta charset="utf-8"><title>huskies: the web UI is not built</title>',
  `<style>${notBuiltCss}</style></head><body>`,
  "<h1>The web UI is not built</h1>",
  "<p>This huskies has no <code>dist/web/</code>. Run <code>npm run build</code> in the huskies checkout " +
    "(<code>npm install</code> runs it too), then reload this page.</p>",
  "<p>The server itself is running: MCP clients can use <code>/mcp</code>.</p>",
  "</body></html>",
].join("\n")

/**
 * The app from `root` (dist/web). Files are read with blocking calls, once each, and then answered
 * from memory: a build is a few files, and a stat to see whether one changed costs microseconds.
 */
export const makeWebAssets = (root: string): WebAssets => {
  const cache = new Map<string, Entry>()
  let cachedBytes = 0

  /** The real path of the file `urlPath` names inside `dir`, or undefined: outside, missing, not a file. */
  const locate = (dir: string, urlPath: string): string | undefined => {
    let decoded: string
    try {
      decoded = decodeURIComponent(urlPath)
    } catch {
      return undefined // malformed %-escapes name no file
    }
    if (decoded.includes("\0") || decoded.includes("\\")) return undefined
    const base = resolve(dir)
    const full = resolve(base, `.${decoded.startsWith("/") ? "" : "/"}${decoded}`)
    if (!full.startsWith(base + sep)) return undefined
    try {
      // Symlinks are followed, and what they point at must still be inside the app's directory.
      const real = realpathSync(full)
      const realBase = realpathSync(base)
      return real.startsWith(realBase + sep) && statSync(real).isFile() ? real : undefined
    } catch {
      return undefined // no such file (or directory): not found
    }
  }

  const load = (file: string): Entry => {
    const stat = statSync(file)
    const known = cache.get(file)
    if (known !== undefined && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known
    const body = readFileSync(file)
    const ext = extname(file).toLowerCase()
    const entry: Entry = {
      size: stat.size,
      mtimeMs: stat.mtimeMs,
      body,
      hash: createHash("sha256").update(body).digest("base64url").slice(0, 27),
      type: types[ext] ?? "application/octet-stream",
      compressible: compressible.has(ext) && body.length >= minCompressBytes,
      encoded: new Map(),
    }
    for (const [encoding, suffix] of [
      ["br", ".br"],
      ["gzip", ".gz"],
    ] as const) {
      const sibling = `${file}${suffix}`
      if (existsSync(sibling)) entry.encoded.set(encoding, Promise.resolve(readFileSync(sibling)))
    }
    if (cachedBytes + body.length > maxCacheBytes) {
      cache.clear()
      cachedBytes = 0
    }
    cache.set(file, entry)
    cachedBytes += body.length
    return entry
  }

  const variant = (entry: Entry, encoding: Encoding): Promise<Buffer> => {
    let made = entry.encoded.get(encoding)
    if (made === undefined) {
      made = encode(entry.body, encoding)
      entry.encoded.set(encoding, made)
    }
    return made
  }

  const send = async (
    req: IncomingMessage,
    res: ServerResponse,
    entry: Entry,
    headers: Record<string, string>,
  ): Promise<void> => {
    const encoding = entry.compressible ? acceptedEncodings(req.headers["accept-encoding"])[0] : undefined
    const body = encoding === undefined ? entry.body : await variant(entry, encoding)
    const etag = `"${entry.hash}${encoding === undefined ? "" : `-${encoding}`}"`
    const all: Record<string, string> = {
      ...headers,
      etag,
      ...(entry.compressible ? { vary: "accept-encoding" } : {}),
    }
    const known = req.headers["if-none-match"]
    if (known !== undefined && known.split(",").some((t) => t.trim() === etag)) {
      res.writeHead(304, all)
      return void res.end()
    }
    res.writeHead(200, {
      ...all,
      ...(encoding === undefined ? {} : { "content-encoding": encoding }),
      "content-length": String(body.length),
    })
    res.end(body)
  }

  const answer = (res: ServerResponse, status: number, type: string, body: string, extra = {}) => {
    res.writeHead(status, {
      ...baseHeaders,
      "content-type": type,
      "cache-control": "no-store",
      "content-length": String(Buffer.byteLength(body)),
      ...extra,
    })
    res.end(body)
  }

  const page = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const index = locate(root, "/index.html")
    if (index === undefined)
      return answer(
        res,
        503,
        "text/html; charset=utf-8",
        notBuiltPage,
        htmlHeaders(standalonePolicy(notBuiltCss)),
      )
    // no-cache: the browser revalidates (a 304 when unchanged), so a new build's asset names are seen.
    return send(req, res, load(index), { ...htmlHeaders(appPolicy), "cache-control": "no-cache" })
  }

  const respond = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path.startsWith("/assets/")) {
      const file = locate(join(root, "assets"), path.slice("/assets".length))
      if (file === undefined) {
        const body = JSON.stringify({ error: `not found: no asset ${path} in this build` })
        return answer(res, 404, "application/json", body)
      }
      const entry = load(file)
      return send(req, res, entry, {
        ...baseHeaders,
        "content-type": entry.type,
        "cache-control": "public, max-age=31536000, immutable",
      })
    }
    if (path === "/" || path === "/index.html") return page(req, res)
    // A file at the top of the build (favicon.ico, robots.txt): its name has no hash, so revalidated.
    const file = locate(root, path)
    if (file !== undefined) {
      const entry = load(file)
      const headers = entry.type.startsWith("text/html") ? htmlHeaders(appPolicy) : baseHeaders
      return send(req, res, entry, { ...headers, "content-type": entry.type, "cache-control": "no-cache" })
    }
    return page(req, res)
  }

  return {
    serve: (req, res) => {
      if (req.method !== "GET" && req.method !== "HEAD") return false
      const path = (req.url ?? "/").split("?")[0] ?? "/"
      const isAsset = path.startsWith("/assets/")
      if (!isAsset && isApiPath(path)) return false
      // Any other page path is the app's to route, but only for a browser asking for a page: a
      // script's GET of a path nothing serves still gets the router's 404.
      const isPage = path === "/" || (req.headers.accept ?? "").includes("text/html")
      if (!isAsset && !isPage && locate(root, path) === undefined) return false
      respond(req, res, path).catch((error: unknown) => {
        // A file that vanished between stat and read (a rebuild): the browser asks again.
        if (!res.headersSent)
          answer(
            res,
            500,
            "application/json",
            JSON.stringify({ error: `could not read ${path}: ${String(error)}` }),
          )
        else res.destroy()
      })
      return true
    },
  }
}
