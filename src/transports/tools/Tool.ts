// src/transports/tools/Tool.ts — one declaration per tool (name, description, input and output as
// Effect Schema, handler); the registry derives JSON Schema for listing and decodes every call.
// Served over MCP now; chat commands and the UI's RPC use the same registry.
import { Effect, Either, JSONSchema, ParseResult, Schema } from "effect"

/** What a handler may report while it runs: MCP turns it into progress notifications. */
export interface ToolContext {
  readonly progress: (progress: number, total?: number, message?: string) => Effect.Effect<void>
  /** Who calls, as a door and a name ("mcp:<client name>"), for the record of a person's decision. */
  readonly caller?: string
  /** The call came with the agents' token (src/transports/http/agentToken.ts): tools for people refuse it. */
  readonly agent?: boolean
}

/** A failure the caller can act on; its message says what to do next. */
export class ToolFailure extends Schema.TaggedError<ToolFailure>()("ToolFailure", {
  message: Schema.String,
}) {}

export interface Tool<I, O, R> {
  readonly name: string
  readonly description: string
  readonly input: Schema.Schema<I, unknown>
  readonly output: Schema.Schema<O, unknown>
  readonly run: (input: I, context: ToolContext) => Effect.Effect<O, { readonly message: string }, R>
  /** false: answer with one compact JSON text block only (no outputSchema/structuredContent), as
   * callers such as Claude Code's permission hook require. */
  readonly structured?: boolean
  /** Only a person may call it (a decision's answer): refused to a call made with the agents' token. */
  readonly people?: boolean
}

// Handlers are checked against their own schemas by `defineTool`; the registry only needs to
// pass decoded input back to the same handler, so the element type can be erased here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool<R = any> = Tool<any, any, R>

type Fields = Schema.Struct.Fields

/** Declares a tool whose input is a struct of `fields` (snake_case, as the MCP tools always were). */
export const defineTool = <F extends Fields, O, OE, R>(tool: {
  readonly name: string
  readonly description: string
  readonly input: F
  readonly output: Schema.Schema<O, OE>
  readonly run: (
    input: Schema.Struct.Type<F>,
    context: ToolContext,
  ) => Effect.Effect<O, { readonly message: string }, R>
  readonly structured?: boolean
  readonly people?: boolean
}): Tool<Schema.Struct.Type<F>, O, R> => ({
  ...(tool.structured === undefined ? {} : { structured: tool.structured }),
  ...(tool.people === undefined ? {} : { people: tool.people }),
  name: tool.name,
  description: tool.description,
  input: Schema.Struct(tool.input) as unknown as Schema.Schema<Schema.Struct.Type<F>, unknown>,
  output: tool.output as unknown as Schema.Schema<O, unknown>,
  run: tool.run,
})

/** Deeper than this, arguments are refused before decoding (decoders and the Store recurse). */
export const maxArgumentDepth = 64

/**
 * What no schema can be trusted to report: a `__proto__` key (decoding a record assigns `out[key]`,
 * which sets a prototype instead of a key, so the value would vanish) and nesting deep enough to
 * overflow the stack. Iterative, so the check itself cannot overflow.
 */
export const unsafeShape = (args: unknown): string | undefined => {
  const stack: Array<{ readonly value: unknown; readonly path: string; readonly depth: number }> = [
    { value: args, path: "", depth: 0 },
  ]
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number }
    if (typeof value !== "object" || value === null) continue
    if (depth > maxArgumentDepth) {
      return `${path || "the arguments"} are nested more than ${maxArgumentDepth} levels deep: flatten the value`
    }
    for (const [key, child] of Object.entries(value)) {
      const at = Array.isArray(value) ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`
      if (key === "__proto__") return `${at}: "__proto__" cannot be used as a key: rename it`
      stack.push({ value: child, path: at, depth: depth + 1 })
    }
  }
  return undefined
}

export interface ListedTool {
  readonly name: string
  readonly description: string
  readonly inputSchema: { readonly type: "object" } & Record<string, unknown>
  readonly outputSchema?: { readonly type: "object" } & Record<string, unknown>
}

export type CallOutcome =
  | { readonly _tag: "Ok"; readonly value: unknown; readonly text: string }
  | { readonly _tag: "Err"; readonly message: string }

export interface Registry<R> {
  readonly tools: ReadonlyArray<AnyTool<R>>
  readonly list: ReadonlyArray<ListedTool>
  readonly has: (name: string) => boolean
  /** Decodes `args` strictly, runs the tool and encodes its output; never fails, never dies. */
  readonly call: (name: string, args: unknown, context: ToolContext) => Effect.Effect<CallOutcome, never, R>
}

/** Replaces every `{"$ref": "#/$defs/X"}` with the definition itself: some clients cannot follow refs. */
const inlineRefs = (node: unknown, defs: Record<string, unknown>, depth = 0): unknown => {
  if (depth > 32) throw new Error("tool schema nests too deeply to inline (a recursive schema?)")
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, defs, depth + 1))
  if (typeof node !== "object" || node === null) return node
  const record = node as Record<string, unknown>
  const ref = record["$ref"]
  if (typeof ref === "string" && ref.startsWith("#/$defs/")) {
    const { $ref: _ref, ...siblings } = record
    const target = inlineRefs(defs[ref.slice("#/$defs/".length)], defs, depth + 1) as Record<string, unknown>
    return { ...target, ...siblings }
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) {
    // `$id`s name shared schemas (every unknown is "/schemas/unknown"); repeated, validators reject them.
    if (key !== "$id") out[key] = inlineRefs(value, defs, depth + 1)
  }
  return out
}

const jsonSchemaOf = (schema: Schema.Schema.Any): Record<string, unknown> => {
  const ast = schema.ast
  if (ast._tag === "TypeLiteral" && ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0) {
    return { type: "object", properties: {}, additionalProperties: false }
  }
  const { $schema: _schema, $defs, ...rest } = JSONSchema.make(schema) as unknown as Record<string, unknown>
  return inlineRefs(rest, ($defs ?? {}) as Record<string, unknown>) as Record<string, unknown>
}

/** `name: string (required), depends_on?: array` — the accepted shape, for error messages. */
export const describeShape = (inputSchema: Record<string, unknown>): string => {
  const properties = (inputSchema["properties"] ?? {}) as Record<string, Record<string, unknown>>
  const required = new Set((inputSchema["required"] ?? []) as ReadonlyArray<string>)
  const typeOf = (prop: Record<string, unknown>): string => {
    if (Array.isArray(prop["anyOf"])) {
      return (prop["anyOf"] as ReadonlyArray<Record<string, unknown>>).map(typeOf).join(" | ")
    }
    const type =
      typeof prop["type"] === "string" ? prop["type"] : Array.isArray(prop["enum"]) ? "enum" : "any"
    const options = Array.isArray(prop["enum"])
      ? ` (${(prop["enum"] as ReadonlyArray<unknown>).join("|")})`
      : ""
    return `${type}${options}`
  }
  const entries = Object.entries(properties).map(
    ([key, prop]) => `${key}${required.has(key) ? "" : "?"}: ${typeOf(prop)}`,
  )
  return entries.length === 0 ? "{} (no parameters)" : `{ ${entries.join(", ")} }`
}

const formatIssues = (tool: string, error: ParseResult.ParseError, shape: string, input: unknown): string => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return `${tool}: arguments must be a JSON object; accepted shape: ${shape}`
  }
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => {
    const field = issue.path.map(String).join(".")
    if (issue._tag === "Unexpected") {
      return `unknown parameter "${field}" (it would be ignored, so it is refused)`
    }
    if (issue._tag === "Missing") return `missing required parameter "${field}"`
    return `parameter "${field}": ${issue.message}`
  })
  return `invalid arguments for ${tool}: ${issues.join("; ")}. Accepted shape: ${shape}`
}

const render = (value: unknown): string =>
  typeof value === "string" ? value : JSON.stringify(value, null, 2)

export const makeRegistry = <R>(tools: ReadonlyArray<AnyTool<R>>): Registry<R> => {
  const byName = new Map<string, AnyTool<R>>()
  for (const tool of tools) {
    if (byName.has(tool.name)) throw new Error(`tool ${tool.name} is declared twice`)
    byName.set(tool.name, tool)
  }
  const listed = new Map<string, ListedTool>()
  for (const tool of tools) {
    const inputSchema = jsonSchemaOf(tool.input) as ListedTool["inputSchema"]
    const output = jsonSchemaOf(tool.output)
    listed.set(tool.name, {
      name: tool.name,
      description: tool.description,
      inputSchema,
      ...(output["type"] === "object" && tool.structured !== false
        ? { outputSchema: output as ListedTool["inputSchema"] }
        : {}),
    })
  }
  const decoders = new Map(
    tools.map((t) => [
      t.name,
      Schema.decodeUnknownEither(t.input, { errors: "all", onExcessProperty: "error" }),
    ]),
  )
  const noParameters = new Set(
    tools
      .filter((t) => t.input.ast._tag === "TypeLiteral" && t.input.ast.propertySignatures.length === 0)
      .map((t) => t.name),
  )
  const encoders = new Map(tools.map((t) => [t.name, Schema.encodeEither(t.output)]))

  const call = (name: string, args: unknown, context: ToolContext): Effect.Effect<CallOutcome, never, R> => {
    const tool = byName.get(name)
    const decode = decoders.get(name)
    const encode = encoders.get(name)
    if (tool === undefined || decode === undefined || encode === undefined) {
      return Effect.succeed({
        _tag: "Err",
        message: `unknown tool "${name}"; available tools: ${[...byName.keys()].join(", ")}`,
      })
    }
    if (tool.people === true && context.agent === true) {
      return Effect.succeed({
        _tag: "Err",
        message: `${name} is for people, not agents: this call came with the agents' token (the HUSKIES_TOKEN huskies gives the agents it starts). A person answers with the server's own token, in the web UI or an MCP client of their own.`,
      })
    }
    const shape = () => describeShape(listed.get(name)?.inputSchema ?? {})
    // An empty struct accepts any object, extra keys included: refuse them here for such tools.
    if (noParameters.has(name) && typeof args === "object" && args !== null && !Array.isArray(args)) {
      const extra = Object.keys(args)
      if (extra.length > 0) {
        return Effect.succeed({
          _tag: "Err",
          message: `invalid arguments for ${name}: ${extra.map((k) => `unknown parameter "${k}"`).join("; ")}. Accepted shape: ${shape()}`,
        })
      }
    }
    const unsafe = unsafeShape(args ?? {})
    if (unsafe !== undefined) {
      return Effect.succeed({ _tag: "Err", message: `invalid arguments for ${name}: ${unsafe}` })
    }
    const decoded = decode(args ?? {})
    if (Either.isLeft(decoded)) {
      return Effect.succeed({ _tag: "Err", message: formatIssues(name, decoded.left, shape(), args ?? {}) })
    }
    return tool.run(decoded.right, context).pipe(
      Effect.map((value): CallOutcome => {
        const encoded = encode(value)
        if (Either.isLeft(encoded)) {
          return { _tag: "Err", message: `${name} produced a result that does not match its declared output` }
        }
        const text = tool.structured === false ? JSON.stringify(encoded.right) : render(encoded.right)
        return { _tag: "Ok", value: encoded.right, text }
      }),
      Effect.catchAll((e) => Effect.succeed<CallOutcome>({ _tag: "Err", message: e.message })),
      Effect.catchAllDefect((defect) =>
        Effect.logError(`tool ${name} crashed`, defect).pipe(
          Effect.as<CallOutcome>({
            _tag: "Err",
            message: `${name} failed unexpectedly: ${defect instanceof Error ? defect.message : String(defect)} (server_logs has details)`,
          }),
        ),
      ),
    )
  }

  return { tools, list: [...listed.values()], has: (name) => byName.has(name), call }
}
