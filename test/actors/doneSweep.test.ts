// test/actors/doneSweep.test.ts — which Done items the housekeeping archives: only Done ones, only once
// their age has passed, and none when the age is 0 (the sweep itself runs in MergeQueue.test.ts).
import { StoryId } from "../../src/domain/StoryId.js"
import { describe, expect, it } from "vitest"
import { dueForArchive } from "../../src/actors/doneSweep.js"

const done = (id: string, mergedAt: number) => ({ id: StoryId.make(id), stage: { _tag: "Done", mergedAt } })

describe("dueForArchive", () => {
  const items = [
    done("1_story_old", 1_000),
    done("2_story_just_due", 5_000),
    done("3_story_recent", 5_001),
    { id: StoryId.make("4_story_merging"), stage: { _tag: "Merge" } },
    { id: StoryId.make("5_story_archived"), stage: { _tag: "Archived" } },
  ]

  it("takes Done items whose age has passed, at the boundary too, and nothing else", () => {
    expect(dueForArchive(items, 5_000, 10_000)).toEqual(["1_story_old", "2_story_just_due"])
  })

  it("takes nothing when the age is 0 (keep Done items) or nothing is old enough", () => {
    expect(dueForArchive(items, 0, 10_000)).toEqual([])
    expect(dueForArchive(items, 60_000, 10_000)).toEqual([])
  })
})
