// src/domain/tomlSchema.ts — TOML text decoded through an Effect Schema into a value or a ConfigError
// whose every issue names the key path and the fix (unknown keys included, with "did you mean").
// The config schemas in domain/Config build on the message helpers here.
import { Either, ParseResult, Schema } from "effect"
import type * as AST from "effect/SchemaAST"
import { parse as parseToml, TomlError } from "smol-toml"

// ---------------------------------------------------------------------------------------------- errors

export const ConfigIssue = Schema.Struct({
  /** Where in the file, e.g. `agent[2].runtime`; empty for the file as a whole. */
  keyPath: Schema.String,
  /** What is wrong and what to write instead. */
  message: Schema.String,
})
export type ConfigIssue = typeof ConfigIssue.Type

/** A config file that cannot be read, parsed or decoded. Every issue is reported, not just the first. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  file: Schema.String,
  /** 1-based position of a TOML syntax error. */
  line: Schema.optionalWith(Schema.Int, { exact: true }),
  column: Schema.optionalWith(Schema.Int, { exact: true }),
  issues: Schema.NonEmptyArray(ConfigIssue),
}) {
  override get message(): string {
    const at = this.line === undefined ? this.file : `${this.file}:${this.line}:${this.column ?? 1}`
    return this.issues
      .map((issue) =>
        issue.keyPath === "" ? `${at}: ${issue.message}` : `${at}: ${issue.keyPath}: ${issue.message}`,
      )
      .join("\n")
  }
}

// ------------------------------------------------------------------------------- messages and helpers

const show = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (Array.isArray(value)) return "an array"
  // smol-toml's TomlDate extends Date and prints as TOML; tables come with a null prototype.
  if (value instanceof Date) return `a date (${value.toISOString()})`
  if (typeof value === "object" && value !== null) return "a table"
  return String(value)
}

// `override` replaces Effect's generated text ("Expected Int & positive, actual ...") with one that
// says what to write; it is used on leaves only, so errors inside arrays and tables keep their path.
export const expecting = (expected: string) => ({
  message: (issue: ParseResult.ParseIssue) => ({
    message: `expected ${expected}, got ${show(issue.actual)}`,
    override: true,
  }),
})
export const expectingContainer = (expected: string) => ({
  message: (issue: ParseResult.ParseIssue) => `expected ${expected}, got ${show(issue.actual)}`,
})
export const required = (fix: string) => ({ missingMessage: () => `is required: ${fix}` })

export const isTable = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)

// A Struct checks "is this a table" on its encoded side, where no annotation of ours can reach; this
// guard in front of it answers `server = 1` with "expected a [server] table" instead of AST jargon.
export const asTable = <A, I>(schema: Schema.Schema<A, I>, expected: string) =>
  Schema.compose(
    Schema.declare((u: unknown): u is Readonly<Record<string, unknown>> => isTable(u)).annotations(
      expecting(expected),
    ),
    schema,
    { strict: false },
  )

/** `["agent", 2, "runtime"]` -> `agent[2].runtime`. */
export const formatKeyPath = (path: ReadonlyArray<PropertyKey>): string =>
  path
    .map((key, i) =>
      typeof key === "number"
        ? `[${key}]`
        : /^[A-Za-z0-9_-]+$/.test(String(key))
          ? `${i === 0 ? "" : "."}${String(key)}`
          : `${i === 0 ? "" : "."}${JSON.stringify(String(key))}`,
    )
    .join("")

const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
    previous = current
  }
  return previous[b.length] ?? 0
}

// Schema decoding ignores excess keys; this walk over the encoded side of the schema reports them with
// the keys that are accepted at that place, so a typo such as `max_turn` names its fix.
const unknownKeys = (ast: AST.AST, value: unknown, path: ReadonlyArray<PropertyKey>): Array<ConfigIssue> => {
  switch (ast._tag) {
    case "Refinement":
      return unknownKeys(ast.from, value, path)
    case "Transformation":
      // asTable's guard is the `from` of a composition; the keys are checked by the schema after it.
      return unknownKeys(ast.transformation._tag === "ComposeTransformation" ? ast.to : ast.from, value, path)
    case "Suspend":
      return unknownKeys(ast.f(), value, path)
    case "TupleType":
      return Array.isArray(value) && ast.rest[0] !== undefined
        ? value.flatMap((item, i) => unknownKeys(ast.rest[0]!.type, item, [...path, i]))
        : []
    case "TypeLiteral": {
      if (!isTable(value) || ast.indexSignatures.length > 0) return []
      const accepted = ast.propertySignatures.map((p) => String(p.name))
      return Object.entries(value).flatMap(([key, inner]) => {
        const known = ast.propertySignatures.find((p) => p.name === key)
        if (known !== undefined) return unknownKeys(known.type, inner, [...path, key])
        const near = accepted.filter((k) => editDistance(k, key) <= 2)
        const hint = near.length > 0 ? ` (did you mean ${near.join(" or ")}?)` : ""
        return [
          {
            keyPath: formatKeyPath([...path, key]),
            message: `unknown key${hint}; accepted keys here: ${accepted.join(", ")}`,
          },
        ]
      })
    }
    default:
      return []
  }
}

const parseFailure = (file: string, cause: unknown): ConfigError => {
  if (cause instanceof TomlError) {
    const reason = cause.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "") ?? cause.message
    return new ConfigError({
      file,
      line: cause.line,
      column: cause.column,
      issues: [{ keyPath: "", message: `invalid TOML: ${reason}; fix the syntax on line ${cause.line}` }],
    })
  }
  return new ConfigError({ file, issues: [{ keyPath: "", message: `invalid TOML: ${String(cause)}` }] })
}

/** Parses TOML text and decodes it with `schema`; `file` is only used to name the file in errors. */
export const decodeToml = <A, I>(
  schema: Schema.Schema<A, I>,
  text: string,
  file: string,
): Either.Either<A, ConfigError> => {
  let raw: unknown
  try {
    raw = parseToml(text)
  } catch (cause) {
    return Either.left(parseFailure(file, cause))
  }
  const excess = unknownKeys(schema.ast, raw, [])
  const decoded = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "ignore" })(raw)
  const invalid = Either.isLeft(decoded)
    ? ParseResult.ArrayFormatter.formatErrorSync(decoded.left).map((i) => ({
        keyPath: formatKeyPath(i.path),
        message: i.message,
      }))
    : []
  const issues = [...excess, ...invalid].filter(
    (issue, i, all) => all.findIndex((o) => o.keyPath === issue.keyPath && o.message === issue.message) === i,
  )
  const [first, ...rest] = issues
  if (first !== undefined) return Either.left(new ConfigError({ file, issues: [first, ...rest] }))
  // Unreachable unless the formatter drops every issue; keep Effect's own rendering rather than lose it.
  return Either.mapLeft(
    decoded,
    (error) =>
      new ConfigError({
        file,
        issues: [{ keyPath: "", message: ParseResult.TreeFormatter.formatErrorSync(error) }],
      }),
  )
}
