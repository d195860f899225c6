// src/transports/cli/mcpConfig.ts — `huskies mcp-config [--write] [path]`: the `.mcp.json` that points
// an MCP client (Claude Code and others) at this project's server; --write merges it into the file.
import { Console, Effect, Schema } from "effect"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

export class McpConfigError extends Schema.TaggedError<McpConfigError>()("McpConfigError", {
  file: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `${this.file}: ${this.detail}`
  }
}

/** The URL clients use; a wildcard bind address is reached through loopback. */
export const mcpUrl = (host: string, port: number): string => {
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}/mcp`
}

export const mcpServerEntry = (url: string) => ({ type: "http", url }) as const

export const runMcpConfig = (root: string, url: string, write: boolean) =>
  Effect.gen(function* () {
    const file = join(root, ".mcp.json")
    if (!write) {
      yield* Console.log(JSON.stringify({ mcpServers: { huskies: mcpServerEntry(url) } }, null, 2))
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
    const next = { ...existing, mcpServers: { ...(servers ?? {}), huskies: mcpServerEntry(url) } }
    writeFileSync(file, JSON.stringify(next, null, 2) + "\n")
    yield* Console.log(`wrote ${file}: huskies -> ${url}`)
  })
