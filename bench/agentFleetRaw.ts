// bench/agentFleetRaw.ts — the baseline process of scenario (e): a plain node process that does the raw
// work of supervising N agents at once (worktree, node-pty spawn, reading the stream, commit count, gate),
// so its own CPU and memory can be read from /proc exactly as the huskies server's are.
// Usage: agentFleetRaw.js <root> <agent script> <count> <gate command>; prints "ready", waits for "go" on
// stdin, prints "done <output lines>" when every gate has passed, and exits at "exit".
import { createInterface } from "node:readline"
import { rawAgent, rawGate, rawWorktree, rawWorktreePath } from "./agentProject.js"

const [root = "", script = "", countArg = "0", gate = "true"] = process.argv.slice(2)
const count = Number(countArg)

// git is not safe with concurrent `worktree add` in one repository; huskies runs them one at a time, so
// the baseline does too.
let worktreeQueue: Promise<unknown> = Promise.resolve()
const oneAtATime = <A>(work: () => Promise<A>): Promise<A> => {
  const next = worktreeQueue.then(work)
  worktreeQueue = next.catch(() => undefined)
  return next
}

const supervise = async (key: string): Promise<number> => {
  await oneAtATime(() => rawWorktree(root, key))
  const agent = rawAgent(script, rawWorktreePath(root, key), key)
  const code = await agent.exited
  if (code !== 0) throw new Error(`raw agent ${key} exited ${code}`)
  await rawGate(root, key, gate)
  return agent.lines()
}

const input = createInterface({ input: process.stdin })
process.stdout.write("ready\n")
for await (const line of input) {
  if (line === "go") {
    const lines = await Promise.all(Array.from({ length: count }, (_, i) => supervise(`fleet-${i + 1}`)))
    process.stdout.write(`done ${lines.reduce((a, b) => a + b, 0)}\n`)
  }
  if (line === "exit") break
}
input.close()
