// test/support/cli.ts — runs the real `huskies` command (bin/huskies.js, built by the global setup)
// as a child process, waits for its listening line, and always kills it afterwards.
import { type ChildProcess, execFile, spawn } from "node:child_process"

const binPath = new URL("../../bin/huskies.js", import.meta.url).pathname

/** Where and with what environment the command runs (default: this process's directory and environment). */
export interface CliOptions {
  readonly cwd?: string
  readonly env?: NodeJS.ProcessEnv
}

export interface RunningServer {
  readonly url: string
  readonly child: ChildProcess
  readonly output: () => string
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>
}

/** Starts `huskies <args>` and resolves once it prints `huskies listening on <url>`. */
export const startServer = (args: ReadonlyArray<string>, options: CliOptions = {}): Promise<RunningServer> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...(options.env ?? process.env), HUSKIES_LOG_LEVEL: "info" },
    })
    let out = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`huskies did not start within 20s:\n${out}`))
    }, 20_000)
    const kill = (signal: NodeJS.Signals = "SIGTERM") =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        child.once("exit", () => done())
        child.kill(signal)
      })
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = /huskies listening on (http:\/\/\S+)/.exec(out)
      if (m?.[1] !== undefined) {
        clearTimeout(timer)
        resolve({ url: m[1], child, output: () => out, kill })
      }
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`huskies exited (${code}) before listening:\n${out}`))
    })
  })

/** Runs `huskies <args>` to completion. */
export const runCli = (
  args: ReadonlyArray<string>,
  options: CliOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [binPath, ...args],
      { cwd: options.cwd, env: options.env ?? process.env, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resolve({ code, stdout, stderr })
      },
    )
  })
