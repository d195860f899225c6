// src/transports/cli/mcpConfig.ts — `huskies mcp-config [--write] [path]`: the `.mcp.json` that points
// an MCP client (Claude Code and others) at this project's server; --write merges it into the file.
import { Console, Effect, Redacted, Schema } from "effect"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { tokenEnvVar } from "./serverAccess.js"

export class McpConfigError extends Schema.TaggedError<McpConfigError>()("McpConfigError", {
  file: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `${this.file}: ${this.detail}`
  }
}

const wildcards = ["0.0.0.0", "::", "[::]"]

/** The URL clients use; a wildcard bind address is reached through loopback. */
export const mcpUrl = (host: string, port: number): string => {
  const reachable = wildcards.includes(host) ? "127.0.0.1" : host
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}/mcp`
}

/** A bound URL as this machine's clients (and agents) reach it: a wildcard address becomes 127.0.0.1. */
export const reachableUrl = (url: string): string => {
  const parsed = new URL(url)
  if (wildcards.includes(parsed.hostname)) parsed.hostname = "127.0.0.1"
  return parsed.href.replace(/\/$/, "")
}

/**
 * How the entry carries the token: `env` writes `Bearer ${HUSKIES_TOKEN}`, which Claude Code expands
 * from its environment when it reads .mcp.json (the file, often committed, holds no secret); `inline`
 * writes the token itself, for clients that expand nothing.
 */
export type TokenInConfig =
  | { readonly _tag: "None" }
  | { readonly _tag: "Env" }
  | { readonly _tag: "Inline"; readonly token: Redacted.Redacted<string> }

export const mcpServerEntry = (url: string, token: TokenInConfig = { _tag: "None" }) =>
  token._tag === "None"
    ? ({ type: "http", url } as const)
    : ({
        type: "http",
        url,
        headers: {
          Authorization: `Bearer ${token._tag === "Env" ? `\${${tokenEnvVar}}` : Redacted.value(token.token)}`,
        },
      } as const)

export const runMcpConfig = (
  root: string,
  url: string,
  write: boolean,
  token: TokenInConfig = { _tag: "None" },
) =>
  Effect.gen(function* () {
    const file = join(root, ".mcp.json")
    const entry = mcpServerEntry(url, token)
    if (!write) {
      yield* Console.log(JSON.stringify({ mcpServers: { huskies: entry } }, null, 2))
      return
    }
    let existing: Record<string, unknown> = {}
    if (existsSync(file)) {
      const parsed = yield* Effect.try({
        try: () => JSON.parse(readFileSync(file, "utf8")) as unknown,
        catch: (e) =>
          new McpConfigError({
            file,
            detail: `is not valid JSON (${String(e)}); fix or remove it, then run again`,
          }),
      })
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return yield* new McpConfigError({ file, detail: "must hold a JSON object with an mcpServers key" })
      }
      existing = parsed as Record<string, unknown>
    }
    const servers = existing["mcpServers"]
    if (
      servers !== undefined &&
      (typeof servers !== "object" || servers === null || Array.isArray(servers))
    ) {
      return yield* new McpConfigError({ file, detail: "mcpServers must be an object of named servers" })
    }
    // Other servers the user configured stay as they are; only the huskies entry is set.
    const next = { ...existing, mcpServers: { ...(servers ?? {}), huskies: entry } }
    // With the token inline the file is a secret: created 0600 (an existing file keeps its mode).
    writeFileSync(file, JSON.stringify(next, null, 2) + "\n", token._tag === "Inline" ? { mode: 0o600 } : {})
    yield* Console.log(`wrote ${file}: huskies -> ${url}`)
  })
