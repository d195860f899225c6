// test/nodes/agentCli.test.ts — `huskies agent` refuses to start, with one line saying what to do, on a
// clone that has never been admitted and was given no token, on a directory without the nodes' remote, and
// on a rendezvous that is no URL; and a worker the main node refuses ends with the refusal's reason.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { join } from "node:path"
import { runCli } from "../support/cli.js"
import { git, makeCluster } from "./cluster.js"

const agent = (args: ReadonlyArray<string>) => Effect.promise(() => runCli(["agent", ...args]))

describe("huskies agent", () => {
  it.scopedLive(
    "says what is missing, and ends when the main node refuses it",
    () =>
      Effect.gen(function* () {
        const cluster = yield* makeCluster()
        const rendezvous = cluster.url.replace(/^http/, "ws")

        const noToken = yield* agent(["--rendezvous", rendezvous, cluster.main.root])
        expect(noToken.code).toBe(1)
        expect(noToken.stderr).toContain("huskies token create")

        git(cluster.main.root, "remote", "rename", "origin", "upstream")
        const noRemote = yield* agent(["--rendezvous", rendezvous, "--token", "t", cluster.main.root])
        expect(noRemote.code).toBe(1)
        expect(noRemote.stderr).toContain('no git remote "origin"')
        git(cluster.main.root, "remote", "rename", "upstream", "origin")

        const badUrl = yield* agent(["--rendezvous", "ftp://main", "--token", "t", cluster.main.root])
        expect(badUrl.code).toBe(1)
        expect(badUrl.stderr).toContain("--rendezvous")

        // A token nobody made: refused by the main node, and the worker exits saying why.
        const clone = join(cluster.base, "stranger")
        git(cluster.base, "clone", "-q", cluster.remote, clone)
        // A token that names no main node key: the worker could not tell the main node from an impostor.
        const keyless = yield* agent(["--rendezvous", rendezvous, "--token", "not-a-token", clone])
        expect(keyless.code).toBe(1)
        expect(keyless.stderr).toContain("does not name the main node's key")
        const mainKey = (yield* cluster.token).split(".")[1]!
        const startedAt = Date.now()
        const refused = yield* agent(["--rendezvous", rendezvous, "--token", `not-a-token.${mainKey}`, clone])
        expect(refused.code).toBe(1)
        // It ended by itself (runCli would have killed it after 30 s).
        expect(Date.now() - startedAt).toBeLessThan(20_000)
        expect(refused.stderr).toContain("refused this worker (token-unknown)")
      }),
    60_000,
  )
})
