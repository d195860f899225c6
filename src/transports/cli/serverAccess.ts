// src/transports/cli/serverAccess.ts — who may call the server `serve` starts: the bearer token in force
// (HUSKIES_TOKEN, else [server] token, else on a non-loopback bind one generated once into
// .huskies/run/token) and the allowed hosts. `serve` and `mcp-config` both use it, so they agree.
import { Config, Effect, Option, Redacted, Schema } from "effect"
import { randomBytes } from "node:crypto"
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from "node:fs"
import { dirname, join } from "node:path"
import { type ProjectConfig, serverTokenPattern } from "../../domain/Config.js"
import { tokenEnvVar } from "../../layers/runtimes/Runtime.js"
import { type AccessSettings, isLoopbackBind } from "../http/AccessGuard.js"

/** Where a generated token is kept: under .huskies/run/, which `huskies init` puts in .gitignore. */
export const tokenFilePath = (root: string): string => join(root, ".huskies", "run", "token")

export { tokenEnvVar }

export class TokenError extends Schema.TaggedError<TokenError>()("TokenError", {
  source: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `${this.source}: ${this.detail}`
  }
}

export type TokenSource =
  | { readonly _tag: "Env" }
  | { readonly _tag: "Config" }
  | { readonly _tag: "File"; readonly path: string; readonly created: boolean }

export interface ServerAccess extends AccessSettings {
  /** Where the token in force came from; absent when none is (a loopback bind with none configured). */
  readonly tokenSource?: TokenSource
}

const unusable = "expected at least 16 printable characters without spaces; the value is not shown"

/** HUSKIES_TOKEN through effect's Config (so tests can provide it); unset or empty is none. */
const tokenFromEnv = Config.option(Config.redacted(tokenEnvVar)).pipe(
  Effect.orDie,
  Effect.map(Option.filter((token) => Redacted.value(token) !== "")),
  Effect.flatMap((token) =>
    Option.isSome(token) && !serverTokenPattern.test(Redacted.value(token.value))
      ? Effect.fail(new TokenError({ source: tokenEnvVar, detail: unusable }))
      : Effect.succeed(token),
  ),
)

/**
 * The token in `file`, or a new one (32 random bytes) written there first. The file is created 0600
 * and exclusively (two starts at once end up with the same token); its directory is 0700.
 */
export const readOrCreateTokenFile = (file: string) =>
  Effect.try({
    try: (): { token: Redacted.Redacted<string>; created: boolean } => {
      const dir = dirname(file)
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      chmodSync(dir, 0o700)
      const fresh = randomBytes(32).toString("base64url")
      try {
        const fd = openSync(file, "wx", 0o600)
        try {
          writeSync(fd, `${fresh}\n`)
        } finally {
          closeSync(fd)
        }
        return { token: Redacted.make(fresh), created: true }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      }
      // Kept from an earlier start; tightened in case something loosened it.
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600)
      const kept = readFileSync(file, "utf8").trim()
      if (!serverTokenPattern.test(kept))
        throw new TokenError({
          source: file,
          detail: `holds no usable token (${unusable}): delete the file and start again to get a new one`,
        })
      return { token: Redacted.make(kept), created: false }
    },
    catch: (e) =>
      e instanceof TokenError
        ? e
        : new TokenError({
            source: file,
            detail: `cannot read or create the token file (${e instanceof Error ? e.message : String(e)}): check the permissions of ${dirname(file)}`,
          }),
  })

/**
 * The access settings for serving `root` on `bindHost`. HUSKIES_TOKEN wins over [server] token; either
 * is required even on loopback. With neither, a loopback bind has no token and any other bind gets the
 * token file's (created on first use).
 */
export const resolveServerAccess = (
  root: string,
  server: ProjectConfig["server"],
  bindHost: string,
): Effect.Effect<ServerAccess, TokenError> =>
  Effect.gen(function* () {
    const allowedHosts = server.allowedHosts
    const env = yield* tokenFromEnv
    if (Option.isSome(env)) return { allowedHosts, token: env.value, tokenSource: { _tag: "Env" } }
    if (server.token !== undefined)
      return { allowedHosts, token: server.token, tokenSource: { _tag: "Config" } }
    if (isLoopbackBind(bindHost)) return { allowedHosts }
    const path = tokenFilePath(root)
    const { token, created } = yield* readOrCreateTokenFile(path)
    return { allowedHosts, token, tokenSource: { _tag: "File", path, created } }
  })

/**
 * What `serve` prints (to stdout, never to the log) so a person knows how to get in. The token itself
 * is never printed: only where it is.
 */
export const accessNotice = (access: ServerAccess, bindHost: string): string | undefined => {
  const source = access.tokenSource
  if (source === undefined) return undefined
  const why = isLoopbackBind(bindHost) ? "a token is configured" : `${bindHost} is not a loopback address`
  const where =
    source._tag === "Env"
      ? `the token is the one in ${tokenEnvVar}`
      : source._tag === "Config"
        ? "the token is [server] token in .huskies/project.toml"
        : `the token is in ${source.path} (${source.created ? "created now" : "kept from an earlier start"}); ` +
          `clients: export ${tokenEnvVar}="$(cat ${source.path})"`
  return (
    `huskies: every request needs "Authorization: Bearer <token>" because ${why}; ${where}. ` +
    "`huskies mcp-config --write` points Claude Code at it."
  )
}

/** What `mcp-config` tells a person (on stderr, its stdout being the config) about the token. */
export const tokenHint = (source: TokenSource, inline: boolean): string =>
  inline
    ? "huskies: the Authorization header holds the token itself: keep that file out of git"
    : `huskies: the Authorization header reads ${tokenEnvVar} from the environment the client starts in: ` +
      (source._tag === "Env"
        ? `yours has it set`
        : source._tag === "Config"
          ? `set it to [server] token of .huskies/project.toml`
          : `export ${tokenEnvVar}="$(cat ${source.path})"`) +
      " (or pass --inline-token for a client that expands no variables)"
