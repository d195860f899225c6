// test/transports/chat/door/notificationsReplicated.test.ts — a change replicated from another node (no
// PipelineEvent, only before and after) says in chat what the same local change says.
import { describe, expect, it } from "@effect/vitest"
import type { Stage } from "../../../../src/domain/Stage.js"
import { StoryId } from "../../../../src/domain/StoryId.js"
import type { WorkItem } from "../../../../src/domain/WorkItem.js"
import { noticeOf } from "../../../../src/transports/chat/door/notifications.js"

const item = (stage: Stage): WorkItem => ({ id: StoryId.make("7_story_sync"), stage }) as unknown as WorkItem

const replicated = (before: Stage, after: Stage) =>
  noticeOf({
    _tag: "ItemChanged",
    before: item(before),
    after: item(after),
    event: { _tag: "Replicated", from: "node-worker" },
  })

describe("chat notices of replicated changes", () => {
  it("a merge, a failed merge and a move read as the local ones do; a change within a stage says nothing", () => {
    const merge: Stage = { _tag: "Merge", featureBranch: "feature/story-7_story_sync", commitsAhead: 1 }
    expect(replicated(merge, { _tag: "Done", mergeCommit: "0123456789abcdef", mergedAt: 5 })).toEqual({
      kind: "merges",
      item: "7_story_sync",
      text: "7_story_sync merged (0123456789ab)",
    })
    expect(
      replicated(merge, { _tag: "Archived", reason: { _tag: "MergeFailed", why: "conflicts" } }),
    ).toEqual({
      kind: "failures",
      item: "7_story_sync",
      text: "7_story_sync could not be merged: conflicts",
    })
    expect(replicated({ _tag: "Coding" }, { _tag: "Qa" })?.text).toBe("7_story_sync: Coding → Qa")
    expect(replicated({ _tag: "Coding" }, { _tag: "Coding" })).toBeUndefined()
  })
})
