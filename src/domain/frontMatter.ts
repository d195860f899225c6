// src/domain/frontMatter.ts — a work item's YAML front matter: the keys huskies reads (name, agent,
// depends_on, qa, retries), typed, plus every other key kept as JSON. Used by StoryDoc and storyEdits.
import { Either } from "effect"
import * as YAML from "yaml"
import { agentNameShape, isAgentNameText } from "./AgentName.js"
import type { QaMode } from "./Stage.js"
import { QaMode as QaModeSchema } from "./Stage.js"
import { isStoryId, type StoryId } from "./StoryId.js"
import { storyDocError, type StoryDocError } from "./StoryDocError.js"

export type JsonValue =
  null | boolean | number | string | ReadonlyArray<JsonValue> | { readonly [key: string]: JsonValue }

export interface FrontMatter {
  /** One line, trimmed, never empty; also rendered as the document's `# ` title. */
  readonly name: string
  readonly agent?: string
  /** YAML `depends_on`; rendered only when non-empty. */
  readonly dependsOn: ReadonlyArray<StoryId>
  readonly qa?: QaMode
  /** A whole number, 0 or more. */
  readonly retries?: number
  /**
   * Every other key with its JSON value, in the order written. Like any JS object, integer-like keys
   * (`2024: …`) come first; a key set to null while parsing is kept (only an edit to null removes it).
   */
  readonly extra: { readonly [key: string]: JsonValue }
}

export const knownFrontMatterKeys = ["name", "agent", "depends_on", "qa", "retries"] as const
export type KnownFrontMatterKey = (typeof knownFrontMatterKeys)[number]
export const isKnownFrontMatterKey = (key: string): key is KnownFrontMatterKey =>
  (knownFrontMatterKeys as ReadonlyArray<string>).includes(key)

const qaModes: ReadonlyArray<QaMode> = QaModeSchema.literals
const keyField = (key: string) => `front matter key ${key}`
const shown = (value: JsonValue): string => JSON.stringify(value) ?? String(value)

/**
 * Copies a parsed or caller-supplied value into a fresh JSON value. Returns the problem, phrased for
 * the author, when the value is not JSON (YAML `.inf`, `!!binary`, an alias loop, a JS Date...).
 */
export const toJsonValue = (
  value: unknown,
  ancestors: ReadonlyArray<object> = [],
): Either.Either<JsonValue, string> => {
  if (value === null || typeof value === "boolean" || typeof value === "string") return Either.right(value)
  if (typeof value === "number") {
    return Number.isFinite(value)
      ? Either.right(value)
      : Either.left(`${value} is not a JSON number; use a finite number or quote it as text`)
  }
  if (typeof value === "object") {
    if (ancestors.includes(value)) return Either.left("a value that contains itself (a YAML alias loop)")
    const inside = [...ancestors, value]
    if (Array.isArray(value)) {
      const items: Array<JsonValue> = []
      for (const item of value) {
        const json = toJsonValue(item, inside)
        if (Either.isLeft(json)) return json
        items.push(json.right)
      }
      return Either.right(items)
    }
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto === Object.prototype || proto === null) {
      const entries: Array<[string, JsonValue]> = []
      for (const [k, v] of Object.entries(value)) {
        const json = toJsonValue(v, inside)
        if (Either.isLeft(json)) return Either.left(`at ${JSON.stringify(k)}: ${json.left}`)
        entries.push([k, json.right])
      }
      // fromEntries defines own properties, so a `__proto__` key stays a plain key.
      return Either.right(Object.fromEntries(entries))
    }
  }
  const kind =
    value instanceof Uint8Array
      ? "binary data"
      : value instanceof Date
        ? "a date"
        : value instanceof Set
          ? "a set"
          : value instanceof Map
            ? "a map with non-text keys"
            : typeof value
  return Either.left(`${kind} is not a JSON value; use text, a number, true/false, null, a list or a map`)
}

const singleLine = (value: JsonValue): string | undefined => {
  if (typeof value !== "string") return undefined
  const text = value.trim()
  return text === "" || /[\r\n]/.test(text) ? undefined : text
}

const withoutKey = <T extends object, K extends keyof T>(obj: T, key: K): Omit<T, K> => {
  const { [key]: _dropped, ...rest } = obj
  return rest
}

/**
 * Sets one key. `nullMeans` says what null does to a key huskies does not know: while parsing it is
 * kept (the author wrote it); in an edit it removes the key. For known keys null always means unset.
 */
export const setFrontMatterKey = (
  fm: FrontMatter,
  key: string,
  raw: unknown,
  nullMeans: "keep" | "remove",
  line?: number,
): Either.Either<FrontMatter, StoryDocError> => {
  const fail = (detail: string) => Either.left(storyDocError(keyField(key), detail, line))
  const json = toJsonValue(raw)
  if (Either.isLeft(json)) return fail(json.left)
  const value = json.right
  switch (key) {
    case "name": {
      const name = singleLine(value)
      if (value === null) return fail("every work item needs a name; set it to what the item is about")
      if (name === undefined) {
        return fail(
          `expected the item's name as one line of text, like \`name: Add login\` (quote it if it looks like a number); got ${shown(value)}`,
        )
      }
      return Either.right({ ...fm, name })
    }
    case "agent": {
      if (value === null) return Either.right(withoutKey(fm, "agent"))
      const agent = singleLine(value)
      if (agent === undefined || !isAgentNameText(agent)) {
        return fail(
          `expected an agent name of ${agentNameShape} (\`agent: coder-1\`), or null to let huskies choose; got ${shown(value)}`,
        )
      }
      return Either.right({ ...fm, agent })
    }
    case "depends_on": {
      const listHint = "expected a list of item ids like [12_story_add_login]"
      if (value === null) return Either.right({ ...fm, dependsOn: [] })
      const items = typeof value === "string" ? [value] : Array.isArray(value) ? value : undefined
      if (items === undefined) return fail(`${listHint}; got ${shown(value)}`)
      const ids: Array<StoryId> = []
      for (const item of items as ReadonlyArray<JsonValue>) {
        if (!isStoryId(item)) {
          return fail(
            `${shown(item)} is not an item id; ${listHint} (a number, a kind story|bug|spike|refactor and a lowercase slug)`,
          )
        }
        ids.push(item)
      }
      return Either.right({ ...fm, dependsOn: ids })
    }
    case "qa": {
      if (value === null) return Either.right(withoutKey(fm, "qa"))
      const qa = qaModes.find((mode) => mode === value)
      if (qa === undefined) return fail(`expected one of ${qaModes.join(", ")}; got ${shown(value)}`)
      return Either.right({ ...fm, qa })
    }
    case "retries": {
      if (value === null) return Either.right(withoutKey(fm, "retries"))
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
        return fail(`expected a whole number of retries, 0 or more, like \`retries: 3\`; got ${shown(value)}`)
      }
      // -0 is a valid 0 but would render as `-0`; keep the canonical form.
      return Either.right({ ...fm, retries: value === 0 ? 0 : value })
    }
    default: {
      if (value === null && nullMeans === "remove") {
        return Either.right({
          ...fm,
          extra: Object.fromEntries(Object.entries(fm.extra).filter(([k]) => k !== key)),
        })
      }
      // fromEntries keeps a repeated key at its first position, so editing a key does not move it.
      return Either.right({ ...fm, extra: Object.fromEntries([...Object.entries(fm.extra), [key, value]]) })
    }
  }
}

const emptyFrontMatter: FrontMatter = { name: "", dependsOn: [], extra: {} }

/**
 * Reads the YAML between the `---` lines. `firstLine` is the document line the YAML starts on, so
 * errors point at the author's line rather than the YAML snippet's.
 */
export const parseFrontMatter = (
  yaml: string,
  firstLine: number,
): Either.Either<FrontMatter, StoryDocError> => {
  const lineCounter = new YAML.LineCounter()
  const doc = YAML.parseDocument(yaml, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const lineAt = (offset: number | undefined) =>
    offset === undefined ? undefined : firstLine + lineCounter.linePos(offset).line - 1
  const yamlError = doc.errors[0]
  if (yamlError !== undefined) {
    return Either.left(
      storyDocError("front matter", `this is not valid YAML: ${yamlError.message}`, lineAt(yamlError.pos[0])),
    )
  }
  const contents = doc.contents
  if (contents === null || (YAML.isScalar(contents) && contents.value === null)) {
    return Either.left(
      storyDocError("front matter", "it is empty; add at least `name: <what this item is about>`"),
    )
  }
  if (!YAML.isMap(contents)) {
    const found = YAML.isSeq(contents) ? "a list" : "a single value"
    return Either.left(
      storyDocError(
        "front matter",
        `expected \`key: value\` lines like \`name: Add login\`; found ${found}`,
        firstLine,
      ),
    )
  }
  let fm = emptyFrontMatter
  let sawName = false
  for (const pair of contents.items) {
    const keyNode = pair.key
    const line = lineAt(YAML.isNode(keyNode) ? keyNode.range?.[0] : undefined)
    if (!YAML.isScalar(keyNode)) {
      return Either.left(
        storyDocError("front matter", "every key must be plain text, like `priority: 2`", line),
      )
    }
    const key = String(keyNode.value)
    let raw: unknown = null
    try {
      if (YAML.isNode(pair.value)) raw = pair.value.toJS(doc, { maxAliasCount: 1000 })
    } catch (cause) {
      // yaml throws (rather than reporting) when aliases expand past maxAliasCount: a "billion laughs"
      // document. It is the author's input, so it is an error for them, not a defect.
      const detail = cause instanceof Error ? cause.message : String(cause)
      return Either.left(
        storyDocError(keyField(key), `cannot be read: ${detail}; write the value out without aliases`, line),
      )
    }
    const next = setFrontMatterKey(fm, key, raw, "keep", line)
    if (Either.isLeft(next)) return next
    fm = next.right
    sawName = sawName || key === "name"
  }
  if (!sawName) {
    return Either.left(storyDocError(keyField("name"), "missing; add `name: <what this item is about>`"))
  }
  return Either.right(fm)
}

/** Canonical YAML: known keys first in a fixed order, then the extra keys in their order; no folding. */
export const renderFrontMatter = (fm: FrontMatter): string => {
  const doc = new YAML.Document()
  const map = new YAML.YAMLMap()
  const add = (key: string, value: unknown) => map.items.push(doc.createPair(key, value))
  add("name", fm.name)
  if (fm.agent !== undefined) add("agent", fm.agent)
  if (fm.dependsOn.length > 0) add("depends_on", doc.createNode(fm.dependsOn, { flow: true }))
  if (fm.qa !== undefined) add("qa", fm.qa)
  if (fm.retries !== undefined) add("retries", fm.retries)
  for (const [key, value] of Object.entries(fm.extra)) add(key, value)
  doc.contents = map
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false })
}

/** Checks a FrontMatter built by code (not parsed) holds what parsing would guarantee. */
export const checkFrontMatter = (fm: FrontMatter): Either.Either<FrontMatter, StoryDocError> => {
  const known: Array<[KnownFrontMatterKey, unknown]> = [
    ["name", fm.name],
    ["agent", fm.agent ?? null],
    ["depends_on", fm.dependsOn],
    ["qa", fm.qa ?? null],
    ["retries", fm.retries ?? null],
  ]
  let rebuilt = emptyFrontMatter
  for (const [key, value] of known) {
    const next = setFrontMatterKey(rebuilt, key, value, "keep")
    if (Either.isLeft(next)) return next
    rebuilt = next.right
  }
  for (const [key, value] of Object.entries(fm.extra)) {
    if (isKnownFrontMatterKey(key)) {
      return Either.left(
        storyDocError(keyField(key), "is a known key; set it on the front matter, not in extra"),
      )
    }
    const next = setFrontMatterKey(rebuilt, key, value, "keep")
    if (Either.isLeft(next)) return next
    rebuilt = next.right
  }
  // Parsing trims name and agent and turns -0 retries into 0; a hand-built value must already be so.
  for (const key of ["name", "agent", "retries"] as const) {
    if (!Object.is(rebuilt[key], fm[key])) {
      return Either.left(
        storyDocError(keyField(key), `must be in canonical form (${shown(rebuilt[key] ?? null)})`),
      )
    }
  }
  return Either.right(fm)
}
