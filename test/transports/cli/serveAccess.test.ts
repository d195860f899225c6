// test/transports/cli/serveAccess.test.ts — serving beyond loopback: the real `huskies serve --host
// 0.0.0.0` generates a 0600 token once and keeps it, answers 401 without it, mcp-config carries it, and
// an agent huskies starts still reaches /mcp (through 127.0.0.1, with the token). Clients use 127.0.0.1 only.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import { join } from "node:path"
import { Agents } from "../../../src/actors/Scheduler.js"
import { Store } from "../../../src/layers/Store.js"
import { reachableUrl } from "../../../src/transports/cli/mcpConfig.js"
import { runCli, startServer } from "../../support/cli.js"
import { awaitItem, commandAgent, gitIdentity, story, withPipeline } from "../../support/pipeline.js"
import { tempDir } from "../../support/tempDir.js"
import { listItems } from "../../support/mcpClient.js"

const tokenFile = (root: string) => join(root, ".huskies", "run", "token")

const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  delete env["HUSKIES_TOKEN"]
  return env
}

/** GET /health on 127.0.0.1 with the given Host header and token: the status. */
const statusWithHost = (url: string, host: string, token: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: new URL(url).port,
        path: "/health",
        headers: { host, authorization: `Bearer ${token}` },
        timeout: 5_000,
      },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")))
    req.on("error", reject)
    req.end()
  })

describe("huskies serve --host 0.0.0.0", () => {
  it("generates a 0600 token, needs it on every request, keeps it across restarts, and mcp-config carries it", async () => {
    const { dir, cleanup } = tempDir()
    try {
      mkdirSync(join(dir, ".huskies"))
      writeFileSync(join(dir, ".huskies", "project.toml"), "")
      const env = cleanEnv()
      const first = await startServer(["serve", "--host", "0.0.0.0", "--port", "0", dir], { env })
      let token: string
      try {
        const url = reachableUrl(first.url)
        expect(new URL(url).hostname).toBe("127.0.0.1")
        token = readFileSync(tokenFile(dir), "utf8").trim()
        expect(token.length).toBeGreaterThanOrEqual(32)
        expect(statSync(tokenFile(dir)).mode & 0o777).toBe(0o600)
        expect(statSync(join(dir, ".huskies", "run")).mode & 0o777).toBe(0o700)
        // Says where the token is and how to use it, never the token itself.
        expect(first.output()).toContain(tokenFile(dir))
        expect(first.output()).toContain("created now")
        expect(first.output()).not.toContain(token)

        await expect(listItems(url)).rejects.toThrow()
        await expect(listItems(url, { authorization: "Bearer not-the-token-0123456789" })).rejects.toThrow()
        expect(await listItems(url, { authorization: `Bearer ${token}` })).toEqual([])
        expect((await fetch(`${url}/health`)).status).toBe(401)
        // The rebinding page is refused before the token is even looked at.
        expect(await statusWithHost(url, `evil.example:${new URL(url).port}`, token)).toBe(403)
        expect(await statusWithHost(url, `localhost:${new URL(url).port}`, token)).toBe(200)
      } finally {
        await first.kill()
      }

      const again = await startServer(["serve", "--host", "0.0.0.0", "--port", "0", dir], { env })
      try {
        expect(readFileSync(tokenFile(dir), "utf8").trim()).toBe(token)
        expect(again.output()).toContain("kept from an earlier start")
        const url = reachableUrl(again.url)
        expect(await listItems(url, { authorization: `Bearer ${token}` })).toEqual([])
      } finally {
        await again.kill()
      }

      const printed = await runCli(["mcp-config", "--host", "0.0.0.0", dir], { env })
      expect(printed.code, printed.stderr).toBe(0)
      expect(JSON.parse(printed.stdout)).toEqual({
        mcpServers: {
          huskies: {
            type: "http",
            url: "http://127.0.0.1:3001/mcp",
            headers: { Authorization: "Bearer ${HUSKIES_TOKEN}" },
          },
        },
      })
      expect(printed.stdout + printed.stderr).not.toContain(token)
      expect(printed.stderr).toContain(tokenFile(dir))
      const inline = await runCli(["mcp-config", "--host", "0.0.0.0", "--inline-token", "--write", dir], {
        env,
      })
      expect(inline.code, inline.stderr).toBe(0)
      const written = JSON.parse(readFileSync(join(dir, ".mcp.json"), "utf8")) as {
        mcpServers: { huskies: { headers: Record<string, string> } }
      }
      expect(written.mcpServers.huskies.headers).toEqual({ Authorization: `Bearer ${token}` })
      expect(statSync(join(dir, ".mcp.json")).mode & 0o777).toBe(0o600)
    } finally {
      cleanup()
    }
  }, 90_000)

  it("takes HUSKIES_TOKEN over the generated one, admits project.toml's allowed_hosts, and refuses a token too short to be safe", async () => {
    const { dir, cleanup } = tempDir()
    try {
      mkdirSync(join(dir, ".huskies"))
      writeFileSync(join(dir, ".huskies", "project.toml"), '[server]\nallowed_hosts = ["huskies.test"]\n')
      const token = "from-the-environment-0123456789"
      const server = await startServer(["serve", "--host", "0.0.0.0", "--port", "0", dir], {
        env: { ...cleanEnv(), HUSKIES_TOKEN: token },
      })
      try {
        const url = reachableUrl(server.url)
        expect(await listItems(url, { authorization: `Bearer ${token}` })).toEqual([])
        expect(server.output()).not.toContain(token)
        const port = new URL(url).port
        expect(await statusWithHost(url, `huskies.test:${port}`, token)).toBe(200)
        expect(await statusWithHost(url, `other.test:${port}`, token)).toBe(403)
      } finally {
        await server.kill()
      }
      const short = await runCli(["mcp-config", "--host", "0.0.0.0", dir], {
        env: { ...cleanEnv(), HUSKIES_TOKEN: "short" },
      })
      expect(short.code).toBe(1)
      expect(short.stderr).toContain("HUSKIES_TOKEN")
      expect(short.stderr).not.toContain("short\n")
    } finally {
      cleanup()
    }
  }, 60_000)
})

describe("agents huskies starts, on a 0.0.0.0 bind with a token", () => {
  // The QA agent's verdict is an MCP call: the item reaches Merge only if it got through.
  const qa = `#!/bin/sh
set -e
case "$HUSKIES_MCP_URL" in http://127.0.0.1:*) ;; *) echo "not through loopback: $HUSKIES_MCP_URL"; exit 1 ;; esac
"$(dirname "$0")/mcp-call.mjs" approve_qa "{\\"story_id\\":\\"$HUSKIES_STORY_ID\\",\\"notes\\":\\"ok\\"}"
`
  const coder = `#!/bin/sh
set -e
${gitIdentity}
echo good > feature.txt
git add feature.txt
git commit -q -m "work on $HUSKIES_STORY_ID"
`

  it.live("reach /mcp through 127.0.0.1 with the token in their environment", () =>
    withPipeline(
      {
        projectToml: 'base_branch = "main"\n[commands]\ntest = "grep -q good feature.txt"\n',
        agentsToml: commandAgent("coder-1", "coder", "coder.sh") + commandAgent("qa-1", "qa", "qa.sh"),
        scripts: { "coder.sh": coder, "qa.sh": qa },
        host: "0.0.0.0",
        access: { token: Redacted.make("agent-path-token-0123456789") },
      },
      ({ url }) =>
        Effect.gen(function* () {
          expect(new URL(url).hostname).toBe("127.0.0.1")
          const store = yield* Store
          const item = yield* store.create(story("Through the guard"))
          yield* awaitItem(item.id, (i) => i.stage._tag === "Merge")
          const qaRun = yield* (yield* Agents).awaitRun(item.id)
          expect(Option.getOrThrow(qaRun)).toMatchObject({ agent: "qa-1", outcome: "succeeded" })
        }),
    ),
  )
})
