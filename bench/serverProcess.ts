// bench/serverProcess.ts — a server under measurement in its own node process: spawned, awaited until
// it prints the line with its URL, and stopped with SIGTERM. Used by the MCP latency and load scenarios.
import { type ChildProcess, spawn } from "node:child_process"

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Everything it printed up to its URL line (both streams). */
  readonly startup: string
}

/** Spawns `node <flags> <args>` and resolves once `pattern`'s first group (the URL) appears in its output. */
export const startServerProcess = (
  args: ReadonlyArray<string>,
  pattern: RegExp,
  flags: ReadonlyArray<string> = [],
): Promise<ServerProcess> => {
  const child = spawn(process.execPath, [...flags, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  return new Promise<ServerProcess>((resolve, reject) => {
    let out = ""
    const timer = setTimeout(() => reject(new Error(`no listening line within 60s:\n${out}`)), 60_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const url = pattern.exec(out)?.[1]
      if (url !== undefined) {
        clearTimeout(timer)
        resolve({ url, child, startup: out })
      }
    }
    child.stdout?.on("data", onData)
    // Logs go to stderr; read them so the pipe never fills and stalls the server.
    child.stderr?.on("data", onData)
    child.on("exit", (code) => reject(new Error(`server exited (${code}):\n${out}`)))
  })
}

/** SIGTERM, which also lets a --cpu-prof server write its profile; resolves when it has exited. */
export const stopServerProcess = (running: ServerProcess): Promise<void> =>
  new Promise((resolve) => {
    running.child.removeAllListeners("exit")
    running.child.once("exit", () => resolve())
    running.child.kill("SIGTERM")
  })
