// src/domain/StoryId.ts — work item kinds and ids (`{n}_{kind}_{slug}`): parsing, slugs, allocation.
// Used by every layer that names an item: Store, MCP tools, CLI, chat.
import { Schema } from "effect"

export const ItemKind = Schema.Literal("story", "bug", "spike", "refactor")
export type ItemKind = typeof ItemKind.Type
export const itemKinds: ReadonlyArray<ItemKind> = ItemKind.literals

// At most 15 digits: every such number is a safe integer, so an id always survives parse + make.
const storyIdPattern = /^([1-9][0-9]{0,14})_(story|bug|spike|refactor)_([a-z0-9]+(?:_[a-z0-9]+)*)$/

export const StoryId = Schema.String.pipe(
  Schema.pattern(storyIdPattern, {
    message: () =>
      "a work item id looks like `12_story_add_login`: a number (at most 15 digits), a kind (story|bug|spike|refactor) and a lowercase slug, joined by `_`",
  }),
  Schema.brand("StoryId"),
)
export type StoryId = typeof StoryId.Type

export interface StoryIdParts {
  readonly number: number
  readonly kind: ItemKind
  readonly slug: string
}

/** Splits a valid id into its parts. */
export const parseStoryId = (id: StoryId): StoryIdParts => {
  const m = storyIdPattern.exec(id)
  // A branded StoryId always matches: it was decoded with the same pattern.
  if (m === null) throw new Error(`impossible: StoryId ${id} does not match its own pattern`)
  return { number: Number(m[1]), kind: m[2] as ItemKind, slug: m[3] as string }
}

/** Whether `id` is a valid id: the pattern StoryId decodes with, tested without a parse. */
export const isStoryId = (id: unknown): id is StoryId => typeof id === "string" && storyIdPattern.test(id)

const maxSlugLength = 60

/** A slug from a human name: lowercase ascii words joined by `_`, never empty. */
export const slugify = (name: string): string => {
  const words = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0)
  let slug = ""
  for (const w of words) {
    const next = slug === "" ? w : `${slug}_${w}`
    if (next.length > maxSlugLength) break
    slug = next
  }
  if (slug === "" && words[0] !== undefined) slug = words[0].slice(0, maxSlugLength)
  return slug === "" ? "untitled" : slug
}

export const makeStoryId = (number: number, kind: ItemKind, name: string): StoryId =>
  StoryId.make(`${number}_${kind}_${slugify(name)}`)

/**
 * The next free number: one above every number ever handed out (`highWater`, which survives
 * deletes so a number is never reused) and every id currently known.
 */
export const nextStoryNumber = (highWater: number, existing: Iterable<StoryId>): number => {
  let max = highWater
  for (const id of existing) max = Math.max(max, parseStoryId(id).number)
  return max + 1
}
