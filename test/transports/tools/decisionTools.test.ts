// test/transports/tools/decisionTools.test.ts — a permission the rules answer "ask" blocks prompt_permission
// until answer_decision (from another fiber) or the timeout answers it; list_decisions shows pending and
// recent decisions; a human QA answered with answer_decision moves the item. Real registry, Store, git.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import type { QaMode } from "../../../src/domain/Stage.js"
import { Store } from "../../../src/layers/Store.js"
import type { TempDir } from "../../support/gitRepo.js"
import { err, ok } from "../../support/tools.js"
import { awaitStore } from "../../support/waits.js"
import { itemWithWork, withGitProject, writeConfig } from "./gitProject.js"

const askRules = '[permissions]\nask = ["Bash(npm publish*)"]\nask_timeout_secs = 60\n'

interface Listed {
  readonly decision_id: string
  readonly kind: string
  readonly story_id?: string
  readonly tool_name?: string
  readonly answer?: { readonly verdict: string; readonly by: string; readonly note?: string }
}

/** list_decisions once a decision is pending (each answer and opening is a Store event). */
const pendingDecision = awaitStore(
  "a pending decision",
  Effect.map(ok("list_decisions", {}), (listed) => (listed["pending"] as Array<Listed>)[0]),
)

/** An item in QA with one commit on its feature branch and the given QA mode. */
const inQa = (repo: TempDir, name: string, qa: QaMode) => itemWithWork(repo, name, "work.txt", qa)

describe("decisions through the tools", () => {
  it.live("prompt_permission waits for a person's answer given with answer_decision", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        yield* writeConfig(repo, ".huskies/project.toml", askRules)
        // Not asked about: the rules answer at once.
        expect(yield* ok("prompt_permission", { tool_name: "Bash", input: { command: "npm test" } })).toEqual(
          {
            behavior: "allow",
            updatedInput: { command: "npm test" },
          },
        )
        const asking = yield* Effect.fork(
          ok("prompt_permission", { tool_name: "Bash", input: { command: "npm publish" } }),
        )
        const pending = yield* pendingDecision
        expect(pending).toMatchObject({ kind: "permission", tool_name: "Bash" })
        expect(
          yield* err("answer_decision", { decision_id: pending.decision_id, verdict: "approve" }),
        ).toContain("answer it with allow or deny")
        const answered = yield* ok("answer_decision", { decision_id: pending.decision_id, verdict: "allow" })
        expect(answered["answer"]).toMatchObject({ verdict: "allow", by: "mcp" })
        expect(yield* Fiber.join(asking)).toEqual({
          behavior: "allow",
          updatedInput: { command: "npm publish" },
        })

        const refused = yield* Effect.fork(
          ok("prompt_permission", { tool_name: "Bash", input: { command: "npm publish --tag next" } }),
        )
        const second = yield* pendingDecision
        yield* ok("answer_decision", { decision_id: second.decision_id, verdict: "deny", note: "not today" })
        const denial = yield* Fiber.join(refused)
        expect(denial["behavior"]).toBe("deny")
        expect(denial["message"]).toContain("was refused by mcp (not today)")
        expect(
          yield* err("answer_decision", { decision_id: second.decision_id, verdict: "allow" }),
        ).toContain("was already answered: deny by mcp")
        const listed = yield* ok("list_decisions", {})
        expect(listed["pending"]).toEqual([])
        expect((listed["recent"] as Array<Listed>).map((d) => d.answer?.verdict)).toEqual(["deny", "allow"])
        const logs = yield* ok("server_logs", { text: "denied Bash" })
        expect(JSON.stringify(logs["entries"])).toContain("mcp")
      }),
    ),
  )

  it.effect("unanswered for ask_timeout_secs, the request is denied by timeout", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        yield* writeConfig(repo, ".huskies/project.toml", askRules)
        const asking = yield* Effect.fork(
          ok("prompt_permission", { tool_name: "Bash", input: { command: "npm publish" } }),
        )
        yield* pendingDecision
        yield* TestClock.adjust("60 seconds")
        const denial = yield* Fiber.join(asking)
        expect(denial["behavior"]).toBe("deny")
        expect(denial["message"]).toContain("refused by timeout (nobody answered within 1m)")
        const recent = (yield* ok("list_decisions", {}))["recent"] as Array<Listed>
        expect(recent.map((d) => d.answer?.by)).toEqual(["timeout"])
      }),
    ),
  )

  it.live("a human QA is pending from the gates on, and answer_decision approves it into Merge", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = yield* inQa(repo, "Look at it", "human")
        const pending = yield* pendingDecision
        expect(pending).toMatchObject({ kind: "human_qa", story_id: id })
        const answered = yield* ok("answer_decision", {
          decision_id: pending.decision_id,
          verdict: "approve",
          note: "looked fine",
        })
        expect(answered["answer"]).toMatchObject({ verdict: "approve", by: "mcp", note: "looked fine" })
        expect((yield* (yield* Store).get(id)).stage._tag).toBe("Merge")
      }),
    ),
  )

  it.live("a human QA rejected with answer_decision goes back to Coding with the note", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = yield* inQa(repo, "Look again", "human")
        const pending = yield* pendingDecision
        yield* ok("answer_decision", {
          decision_id: pending.decision_id,
          verdict: "reject",
          note: "too blue",
        })
        const item = yield* (yield* Store).get(id)
        expect(item.stage._tag).toBe("Coding")
        expect(item.feedback).toContain("too blue")
      }),
    ),
  )

  it.live("accept_story answers the item's pending QA as the caller, with the notes", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = yield* inQa(repo, "Accept it", "human")
        yield* pendingDecision
        yield* ok("accept_story", { story_id: id, notes: "checked by hand" })
        expect((yield* (yield* Store).get(id)).stage._tag).toBe("Merge")
        const listed = yield* ok("list_decisions", {})
        expect(listed["pending"]).toEqual([])
        expect(listed["recent"]).toMatchObject([
          {
            kind: "human_qa",
            story_id: id,
            answer: { verdict: "approve", by: "mcp", note: "checked by hand" },
          },
        ])
      }),
    ),
  )

  it.live("move_story out of QA is the caller's verdict; a rejection without a reason records nothing", () =>
    withGitProject((repo) =>
      Effect.gen(function* () {
        const id = yield* inQa(repo, "Move it", "human")
        const pending = yield* pendingDecision
        const refused = yield* err("move_story", { story_id: id, to: "coding" })
        expect(refused).toContain("give reason")
        expect((yield* pendingDecision).decision_id).toBe(pending.decision_id)
        yield* ok("move_story", { story_id: id, to: "coding", reason: "needs tests" })
        const listed = yield* ok("list_decisions", {})
        expect(listed["recent"]).toMatchObject([
          { story_id: id, answer: { verdict: "reject", by: "mcp", note: "needs tests" } },
        ])
        expect((yield* (yield* Store).get(id)).feedback).toContain("needs tests")
      }),
    ),
  )
})
