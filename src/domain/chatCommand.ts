// src/domain/chatCommand.ts — the chat commands (`move 12 qa`, `start 12 coder-1`, `503`) as a Schema
// union, parsed from a line with errors that say what to type, and rendered back. Pure. Shared by the web
// UI's command bar and the chat bots through src/transports/commands.
import { Either, Match, Schema } from "effect"
import { AgentName, agentNameShape, isAgentName } from "./AgentName.js"
import { type StageName, stageNameOf, stageNames, stageTagNamed } from "./moveRoutes.js"
import { isStoryId, StoryId } from "./StoryId.js"
import { parseWhen, renderWhen, TimerWhen, whenForms } from "./chatTime.js"
import {
  closest,
  type ChatCommandError,
  BadArgument,
  EmptyCommand,
  UnknownCommand,
} from "./chatCommandErrors.js"
import { type Verb, verbs } from "./chatVerbs.js"

export { Verb, verbs, verbHelp, type VerbHelp } from "./chatVerbs.js"
export * from "./chatCommandErrors.js"

/** An item as people type it: its number (`503`, the usual way) or its full id. */
export const ItemNumber = Schema.Int.pipe(Schema.between(1, 999_999_999_999_999))
export const ItemRef = Schema.Union(ItemNumber, StoryId)
export type ItemRef = typeof ItemRef.Type

const Note = Schema.NonEmptyTrimmedString
const Stage = Schema.Literal(...stageNames)

const Help = Schema.TaggedStruct("Help", { verb: Schema.optional(Schema.Literal(...verbs)) })
const Status = Schema.TaggedStruct("Status", { item: Schema.optional(ItemRef) })
const Backlog = Schema.TaggedStruct("Backlog", {})
const Show = Schema.TaggedStruct("Show", { item: ItemRef })
const Move = Schema.TaggedStruct("Move", { item: ItemRef, to: Stage, reason: Schema.optional(Note) })
const Start = Schema.TaggedStruct("Start", { item: ItemRef, agent: Schema.optional(AgentName) })
const Stop = Schema.TaggedStruct("Stop", { item: ItemRef })
const Assign = Schema.TaggedStruct("Assign", { item: ItemRef, agent: AgentName })
/** `on: []` clears the item's dependencies (`depends 12 none`). */
const Depends = Schema.TaggedStruct("Depends", { item: ItemRef, on: Schema.Array(ItemRef) })
const Unblock = Schema.TaggedStruct("Unblock", { item: ItemRef })
/** Unconfirmed, the executor asks for `delete n confirm` and deletes nothing. */
const Delete = Schema.TaggedStruct("Delete", { item: ItemRef, confirmed: Schema.Boolean })
const Timer = Schema.TaggedStruct("Timer", { item: ItemRef, when: TimerWhen })
/** No scope: the whole project; an item; or today (UTC). */
const Cost = Schema.TaggedStruct("Cost", {
  scope: Schema.optional(Schema.Union(ItemRef, Schema.Literal("today"))),
})
const Queue = Schema.TaggedStruct("Queue", {})
const Approve = Schema.TaggedStruct("Approve", { item: ItemRef, note: Schema.optional(Note) })
const Reject = Schema.TaggedStruct("Reject", { item: ItemRef, notes: Note })

export const ChatCommand = Schema.Union(
  Help,
  Status,
  Backlog,
  Show,
  Move,
  Start,
  Stop,
  Assign,
  Depends,
  Unblock,
  Delete,
  Timer,
  Cost,
  Queue,
  Approve,
  Reject,
)
export type ChatCommand = typeof ChatCommand.Type

// ------------------------------------------------------------------------------------------ parsing

interface Token {
  readonly text: string
  readonly start: number
}

const tokenize = (line: string): ReadonlyArray<Token> =>
  [...line.matchAll(/\S+/g)].map((m) => ({ text: m[0], start: m.index }))

/** `503`, `#503` or a full id; undefined when the word is neither. */
export const parseItemRef = (word: string): ItemRef | undefined => {
  const text = word.startsWith("#") ? word.slice(1) : word
  if (/^[1-9][0-9]{0,14}$/.test(text)) return Number(text)
  const id = text.toLowerCase()
  return isStoryId(id) ? StoryId.make(id) : undefined
}

/** Words people reach for from other tools: suggested, never run, since a guess could move the wrong thing. */
const verbAliases: Readonly<Record<string, Verb>> = {
  mv: "move",
  rm: "delete",
  del: "delete",
  remove: "delete",
  ls: "status",
  list: "status",
  board: "status",
  run: "start",
  kill: "stop",
  deps: "depends",
  dep: "depends",
  accept: "approve",
  deny: "reject",
  schedule: "timer",
  usage: "cost",
  merges: "queue",
}

const confirmWords = new Set(["confirm", "yes", "y"])
const noneWords = new Set(["none", "-", "clear"])

type Parsed = Either.Either<ChatCommand, ChatCommandError>

/** The argument parser of one verb: its words after the verb, and the line they were cut from. */
class Args {
  constructor(
    readonly verb: Verb,
    readonly line: string,
    readonly words: ReadonlyArray<Token>,
  ) {}

  missing(argument: string, hint?: string): BadArgument {
    return new BadArgument({ verb: this.verb, argument, problem: "missing", ...(hint ? { hint } : {}) })
  }

  invalid(argument: string, given: string, hint?: string): BadArgument {
    return new BadArgument({
      verb: this.verb,
      argument,
      problem: "invalid",
      given,
      ...(hint ? { hint } : {}),
    })
  }

  /** Everything from word `i` on, as typed (trimmed); undefined when there is nothing. */
  rest(i: number): string | undefined {
    const word = this.words[i]
    return word === undefined ? undefined : this.line.slice(word.start).trim()
  }

  /** Refuses words past the `count` this verb takes. */
  noMoreThan(count: number): Either.Either<void, BadArgument> {
    const extra = this.words[count]
    return extra === undefined
      ? Either.void
      : Either.left(
          new BadArgument({
            verb: this.verb,
            argument: "(nothing more)",
            problem: "extra",
            given: extra.text,
          }),
        )
  }

  item(i: number, argument = "<n>"): Either.Either<ItemRef, BadArgument> {
    const word = this.words[i]
    if (word === undefined) return Either.left(this.missing(argument))
    const ref = parseItemRef(word.text)
    return ref === undefined
      ? Either.left(this.invalid(argument, word.text, "give the item's number (503) or its full id"))
      : Either.right(ref)
  }

  optionalItem(i: number): Either.Either<ItemRef | undefined, BadArgument> {
    return this.words[i] === undefined ? Either.right(undefined) : this.item(i)
  }

  agent(i: number): Either.Either<AgentName, BadArgument> {
    const word = this.words[i]
    if (word === undefined) return Either.left(this.missing("<agent>", "an agent name from agents.toml"))
    return isAgentName(word.text)
      ? Either.right(word.text)
      : Either.left(this.invalid("<agent>", word.text, `an agent name is ${agentNameShape}`))
  }

  stage(i: number): Either.Either<StageName, BadArgument> {
    const word = this.words[i]
    const hint = `one of ${stageNames.join(", ")}`
    if (word === undefined) return Either.left(this.missing("<stage>", hint))
    const tag = stageTagNamed(word.text)
    if (tag !== undefined) return Either.right(stageNameOf(tag))
    const near = closest(word.text.toLowerCase(), stageNames)
    return Either.left(
      this.invalid("<stage>", word.text, near === undefined ? hint : `did you mean ${near}? ${hint}`),
    )
  }
}

const one = (args: Args, make: (item: ItemRef) => ChatCommand): Parsed =>
  Either.gen(function* () {
    const item = yield* args.item(0)
    yield* args.noMoreThan(1)
    return make(item)
  })

const parseArgs: { readonly [V in Verb]: (args: Args) => Parsed } = {
  help: (args) =>
    Either.gen(function* () {
      yield* args.noMoreThan(1)
      const word = args.words[0]?.text.toLowerCase()
      if (word === undefined) return Help.make({})
      const verb = verbs.find((v) => v === word)
      if (verb !== undefined) return Help.make({ verb })
      const near = closest(word, verbs)
      return yield* Either.left(
        args.invalid("<command>", word, near === undefined ? undefined : `did you mean ${near}?`),
      )
    }),
  status: (args) =>
    Either.gen(function* () {
      const item = yield* args.optionalItem(0)
      yield* args.noMoreThan(1)
      return item === undefined ? Status.make({}) : Status.make({ item })
    }),
  backlog: (args) => Either.map(args.noMoreThan(0), () => Backlog.make({})),
  show: (args) => one(args, (item) => Show.make({ item })),
  move: (args) =>
    Either.gen(function* () {
      const item = yield* args.item(0)
      const to = yield* args.stage(1)
      const reason = args.rest(2)
      return Move.make({ item, to, ...(reason === undefined ? {} : { reason }) })
    }),
  start: (args) =>
    Either.gen(function* () {
      const item = yield* args.item(0)
      const agent = args.words[1] === undefined ? undefined : yield* args.agent(1)
      yield* args.noMoreThan(2)
      return Start.make({ item, ...(agent === undefined ? {} : { agent }) })
    }),
  stop: (args) => one(args, (item) => Stop.make({ item })),
  assign: (args) =>
    Either.gen(function* () {
      const item = yield* args.item(0)
      const agent = yield* args.agent(1)
      yield* args.noMoreThan(2)
      return Assign.make({ item, agent })
    }),
  depends: (args) =>
    Either.gen(function* () {
      const item = yield* args.item(0)
      // `depends 12 3, 4` and `depends 12 3,4` as well as `depends 12 3 4`.
      const words = args.words
        .slice(1)
        .flatMap((w) => w.text.split(","))
        .filter((w) => w !== "")
      if (words.length === 0) {
        return yield* Either.left(args.missing("<m>…", "the items it waits for; `none` clears them"))
      }
      if (words.length === 1 && noneWords.has((words[0] as string).toLowerCase())) {
        return Depends.make({ item, on: [] })
      }
      const on: Array<ItemRef> = []
      for (const word of words) {
        const ref = parseItemRef(word)
        if (ref === undefined) {
          return yield* Either.left(
            args.invalid("<m>…", word, "give item numbers (12 14) or full ids; `none` clears them"),
          )
        }
        on.push(ref)
      }
      return Depends.make({ item, on })
    }),
  unblock: (args) => one(args, (item) => Unblock.make({ item })),
  delete: (args) =>
    Either.gen(function* () {
      const item = yield* args.item(0)
      const word = args.words[1]
      yield* args.noMoreThan(2)
      if (word === undefined) return Delete.make({ item, confirmed: false })
      if (confirmWords.has(word.text.toLowerCase())) return Delete.make({ item, confirmed: true })
      return yield* Either.left(
        args.invalid("confirm", word.text, `to delete it, type: delete ${item} confirm`),
      )
    }),
  timer: (args) =>
    Either.gen(function* () {
      const item = yield* args.item(0)
      const text = args.rest(1)
      if (text === undefined) return yield* Either.left(args.missing("<when>", whenForms))
      const when = yield* Either.mapLeft(parseWhen(text), (why) => args.invalid("<when>", text, why))
      return Timer.make({ item, when })
    }),
  cost: (args) =>
    Either.gen(function* () {
      yield* args.noMoreThan(1)
      const word = args.words[0]
      if (word === undefined) return Cost.make({})
      if (word.text.toLowerCase() === "today") return Cost.make({ scope: "today" })
      const item = parseItemRef(word.text)
      if (item === undefined) {
        return yield* Either.left(args.invalid("[n|today]", word.text, "an item's number, or today"))
      }
      return Cost.make({ scope: item })
    }),
  queue: (args) => Either.map(args.noMoreThan(0), () => Queue.make({})),
  approve: (args) =>
    Either.gen(function* () {
      const item = yield* args.item(0)
      const note = args.rest(1)
      return Approve.make({ item, ...(note === undefined ? {} : { note }) })
    }),
  reject: (args) =>
    Either.gen(function* () {
      const item = yield* args.item(0)
      const notes = args.rest(1)
      if (notes === undefined) {
        return yield* Either.left(args.missing("<notes>", "what is missing or wrong, for the next coder"))
      }
      return Reject.make({ item, notes })
    }),
}

/**
 * Whether a message is meant as a command: its first word is a command or an item. A chat bot answers
 * such a message with the command's reply (a mistake included) and leaves other talk alone.
 */
export const looksLikeCommand = (line: string): boolean => {
  const first = /\S+/.exec(line)?.[0]
  if (first === undefined) return false
  const word = first.toLowerCase()
  return verbs.some((v) => v === word) || parseItemRef(first) !== undefined
}

/** A command line to a command, or an error that says what to type. Total: never throws. */
export const parseChatCommand = (line: string): Parsed => {
  const tokens = tokenize(line)
  const first = tokens[0]
  if (first === undefined) return Either.left(new EmptyCommand())
  const word = first.text.toLowerCase()
  const verb = verbs.find((v) => v === word)
  if (verb === undefined) {
    // An item on its own (`503`) shows it.
    const item = parseItemRef(first.text)
    if (item !== undefined) return parseArgs.show(new Args("show", line, tokens))
    const near = Object.hasOwn(verbAliases, word) ? verbAliases[word] : closest(word, verbs)
    return Either.left(
      new UnknownCommand({ given: first.text, ...(near === undefined ? {} : { suggestion: near }) }),
    )
  }
  return parseArgs[verb](new Args(verb, line, tokens.slice(1)))
}

// ---------------------------------------------------------------------------------------- rendering

const item = (ref: ItemRef) => String(ref)
const withRest = (head: string, rest: string | undefined) => (rest === undefined ? head : `${head} ${rest}`)

/** The command as a person would type it; parseChatCommand reads it back to the same command. */
export const renderChatCommand = (command: ChatCommand): string =>
  Match.value(command).pipe(
    Match.tagsExhaustive({
      Help: (c) => withRest("help", c.verb),
      Status: (c) => withRest("status", c.item === undefined ? undefined : item(c.item)),
      Backlog: () => "backlog",
      Show: (c) => `show ${item(c.item)}`,
      Move: (c) => withRest(`move ${item(c.item)} ${c.to}`, c.reason),
      Start: (c) => withRest(`start ${item(c.item)}`, c.agent),
      Stop: (c) => `stop ${item(c.item)}`,
      Assign: (c) => `assign ${item(c.item)} ${c.agent}`,
      Depends: (c) => `depends ${item(c.item)} ${c.on.length === 0 ? "none" : c.on.map(item).join(" ")}`,
      Unblock: (c) => `unblock ${item(c.item)}`,
      Delete: (c) => withRest(`delete ${item(c.item)}`, c.confirmed ? "confirm" : undefined),
      Timer: (c) => `timer ${item(c.item)} ${renderWhen(c.when)}`,
      Cost: (c) => withRest("cost", c.scope === undefined ? undefined : String(c.scope)),
      Queue: () => "queue",
      Approve: (c) => withRest(`approve ${item(c.item)}`, c.note),
      Reject: (c) => `reject ${item(c.item)} ${c.notes}`,
    }),
  )
