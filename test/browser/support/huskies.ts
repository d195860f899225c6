// test/browser/support/huskies.ts — a project as a user sets one up (a git repository, `huskies init`,
// then the test's settings and `command` agents committed) and the real `huskies serve` process on it,
// stopped and started again on the same port at will; an MCP client for the MCP side. 127.0.0.1 only.
import { execFileSync } from "node:child_process"
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { runCli, type RunningServer, startServer } from "../../support/cli.js"
import { mcpCallScript } from "../../support/pipeline.js"
import { tempDir } from "../../support/tempDir.js"

export interface ProjectSetup {
  /** The repository's directory name, which the board shows as the project's (default "project"). */
  readonly name?: string
  /** Replaces the .huskies/project.toml that `huskies init` wrote. */
  readonly projectToml?: string
  /** Replaces .huskies/agents.toml; `{{scripts}}` becomes the scripts' directory. */
  readonly agentsToml?: string
  /** Executable files for the agents, written next to the repository (mcp-call.mjs is always there). */
  readonly scripts?: Readonly<Record<string, string>>
}

export interface Project {
  readonly root: string
  readonly scripts: string
  /** The environment a server of this project runs in: the machine's, with git isolated from it. */
  readonly env: NodeJS.ProcessEnv
  readonly remove: () => void
}

const git = (cwd: string, env: NodeJS.ProcessEnv, ...args: ReadonlyArray<string>) =>
  execFileSync("git", [...args], { cwd, env, stdio: "pipe" })

/** A fresh repository with one commit, `huskies init`ed, with the setup's files committed on top. */
export const makeProject = async (setup: ProjectSetup = {}): Promise<Project> => {
  const { dir: base, cleanup } = tempDir("huskies-browser-")
  try {
    const root = join(base, setup.name ?? "project")
    const scripts = join(base, "scripts")
    const home = join(base, "home")
    mkdirSync(root)
    mkdirSync(scripts)
    mkdirSync(home)
    writeFileSync(
      join(home, ".gitconfig"),
      "[user]\n\tname = Huskies Test\n\temail = test@huskies.invalid\n[commit]\n\tgpgsign = false\n",
    )
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GIT_CONFIG_GLOBAL: join(home, ".gitconfig"),
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CEILING_DIRECTORIES: base,
      GIT_TERMINAL_PROMPT: "0",
    }
    // A token in the caller's environment would bind every server of these tests to it.
    delete env["HUSKIES_TOKEN"]
    git(root, env, "init", "--quiet", "--initial-branch=main")
    writeFileSync(join(root, "README.md"), "# a project huskies works on\n")
    git(root, env, "add", "README.md")
    git(root, env, "commit", "--quiet", "-m", "initial")
    const init = await runCli(["init", root], { env })
    if (init.code !== 0) throw new Error(`huskies init failed (${init.code}):\n${init.stdout}${init.stderr}`)
    for (const [name, text] of Object.entries({ "mcp-call.mjs": mcpCallScript(), ...setup.scripts })) {
      writeFileSync(join(scripts, name), text)
      chmodSync(join(scripts, name), 0o755)
    }
    const changed: Array<string> = []
    if (setup.projectToml !== undefined) {
      writeFileSync(join(root, ".huskies", "project.toml"), setup.projectToml)
      changed.push(".huskies/project.toml")
    }
    if (setup.agentsToml !== undefined) {
      writeFileSync(
        join(root, ".huskies", "agents.toml"),
        setup.agentsToml.replaceAll("{{scripts}}", scripts),
      )
      changed.push(".huskies/agents.toml")
    }
    // Committed, so the base branch's checkout is clean and merges need not wait for it.
    if (changed.length > 0) {
      git(root, env, "add", "--", ...changed)
      git(root, env, "commit", "--quiet", "-m", "the test's huskies settings")
    }
    return { root, scripts, env, remove: cleanup }
  } catch (e) {
    cleanup()
    throw e
  }
}

export interface Huskies {
  readonly url: string
  readonly port: number
  readonly output: () => string
  /** SIGKILL (as a crash) or SIGTERM (a shutdown); resolves once the process has exited. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>
}

/** `huskies serve --port <port> <root>` as a user runs it; port 0 picks a free one. */
export const serve = async (
  project: Project,
  options: { readonly port?: number; readonly env?: Readonly<Record<string, string>> } = {},
): Promise<Huskies> => {
  const running: RunningServer = await startServer(
    ["serve", "--port", String(options.port ?? 0), project.root],
    { cwd: project.root, env: { ...project.env, ...options.env } },
  )
  return {
    url: running.url,
    port: Number(new URL(running.url).port),
    output: running.output,
    stop: (signal = "SIGTERM") => running.kill(signal),
  }
}

export interface Mcp {
  /** Calls a tool and returns its structured answer; throws with the tool's message when it fails. */
  readonly call: (name: string, args?: Record<string, unknown>) => Promise<Record<string, unknown>>
  /** Calls a tool that should refuse, and returns the refusal's text; throws if the call succeeded. */
  readonly refusal: (name: string, args?: Record<string, unknown>) => Promise<string>
  readonly close: () => Promise<void>
}

/** An MCP client (the real SDK over Streamable HTTP) of the server at `url`. */
export const connectMcp = async (url: string, token?: string): Promise<Mcp> => {
  const client = new Client({ name: "browser-test", version: "1" })
  const requestInit = token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit }))
  return {
    call: async (name, args = {}) => {
      const result = await client.callTool({ name, arguments: args })
      const answer = result.structuredContent
      if (result.isError === true || typeof answer !== "object" || answer === null)
        throw new Error(`${name} failed: ${JSON.stringify(result.content)}`)
      return answer as Record<string, unknown>
    },
    refusal: async (name, args = {}) => {
      const result = await client.callTool({ name, arguments: args })
      if (result.isError !== true) throw new Error(`${name} was expected to refuse, and succeeded`)
      const content = result.content as ReadonlyArray<{ readonly type: string; readonly text?: string }>
      return content.map((c) => c.text ?? "").join("\n")
    },
    close: () => client.close(),
  }
}

/** The stage tag (`Backlog`, `Archived`…) MCP `status` reports for `id`. */
export const stageOverMcp = async (mcp: Mcp, id: string): Promise<string> => {
  const status = await mcp.call("status", { story_id: id })
  return String((status["stage"] as { _tag?: unknown } | undefined)?._tag)
}
