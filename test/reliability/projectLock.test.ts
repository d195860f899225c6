// test/reliability/projectLock.test.ts — one server per project: a second `huskies serve` on the same
// project is refused with the first one's pid and URL, and the lock dies with its holder (kill -9 too).
import { Context, Effect, Exit, Layer } from "effect"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { ProjectLock, ProjectLockLive, serverRecordPath } from "../../src/layers/ProjectLock.js"
import { runCli, type RunningServer, startServer } from "../support/cli.js"
import { emptyProject, useCleanups } from "../support/cleanups.js"

const defer = useCleanups()

const project = () => emptyProject(defer)

const serve = async (dir: string): Promise<RunningServer> => {
  const server = await startServer(["serve", "--port", "0", dir])
  defer(() => server.kill("SIGKILL"))
  return server
}

describe("one server per project", () => {
  it("refuses a second serve with the pid and URL of the first, and frees the lock on kill -9", async () => {
    const dir = project()
    const first = await serve(dir)
    const second = await runCli(["serve", "--port", "0", dir])
    expect(second.code).toBe(1)
    expect(second.stderr).toContain("another huskies server already serves")
    expect(second.stderr).toContain(`pid ${first.child.pid}`)
    expect(second.stderr).toContain(first.url)
    expect(second.stderr).not.toContain("    at ")
    // The first one never noticed: it still answers.
    expect((await fetch(`${first.url}/health`)).status).toBe(200)

    await first.kill("SIGKILL")
    const third = await serve(dir)
    const record = JSON.parse(readFileSync(serverRecordPath(dir), "utf8")) as { pid: number; url: string }
    expect(record).toMatchObject({ pid: third.child.pid, url: third.url })
  })

  it("holds within one process too, and the next holder may take it once the scope closes", async () => {
    const dir = project()
    const hold = <A, E>(body: Effect.Effect<A, E>) =>
      Effect.scoped(Layer.build(ProjectLockLive(dir)).pipe(Effect.zipRight(body)))
    const nested = await Effect.runPromise(Effect.exit(hold(hold(Effect.void))))
    expect(Exit.isFailure(nested)).toBe(true)
    expect(String(Exit.isFailure(nested) ? nested.cause : "")).toContain("ProjectLocked")
    const after = await Effect.runPromise(Effect.exit(hold(Effect.void)))
    expect(Exit.isSuccess(after)).toBe(true)
    // Nothing of this holder is recorded once it let go.
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const ctx = yield* Layer.build(ProjectLockLive(dir))
          yield* Context.get(ctx, ProjectLock).recordListening("http://127.0.0.1:1")
        }),
      ),
    )
    expect(() => readFileSync(serverRecordPath(dir))).toThrow()
  })
})
