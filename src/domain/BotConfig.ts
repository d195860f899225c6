// src/domain/BotConfig.ts — `.huskies/bot.toml`: which chat platforms the server joins, which rooms and
// people may do what there, which events each room hears and where permission prompts go. Pure: decoded
// here with Schema, read by the chat door (src/transports/chat/door). Credentials never live in it.
import { Either, Schema } from "effect"
import { asTable, type ConfigError, decodeToml, expecting } from "./tomlSchema.js"

export const ChatRole = Schema.Literal("ops", "read").annotations(expecting('"ops" or "read"'))
export type ChatRole = typeof ChatRole.Type

export const NotificationKind = Schema.Literal(
  "moves",
  "merges",
  "failures",
  "rate_limits",
  "digest",
).annotations(expecting('one of "moves", "merges", "failures", "rate_limits", "digest"'))
export type NotificationKind = typeof NotificationKind.Type

export const AssistantMode = Schema.Literal("off", "mention", "ambient").annotations(
  expecting('"off", "mention" or "ambient"'),
)

const Room = asTable(
  Schema.Struct({
    id: Schema.NonEmptyTrimmedString.annotations(expecting("the room or channel id")),
    role: Schema.optionalWith(ChatRole, { default: () => "read" as const }),
    notify: Schema.optionalWith(Schema.Array(NotificationKind), { default: () => [] }),
    /** Every message that is not a command goes to the assistant, mention or not (unless assistant = "off"). */
    ambient: Schema.optionalWith(Schema.Boolean.annotations(expecting("true or false")), {
      default: () => false,
    }),
  }),
  "a [[<platform>.room]] table",
)

const Users = asTable(
  Schema.Struct({
    ops: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
    read: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  }),
  "a [<platform>.users] table with ops = [...] and read = [...]",
)

export const PlatformConfig = asTable(
  Schema.Struct({
    enabled: Schema.optionalWith(Schema.Boolean, { default: () => false }),
    room: Schema.optionalWith(Schema.Array(Room), { default: () => [] }),
    users: Schema.optionalWith(Users, { default: () => ({ ops: [], read: [] }) }),
    /** Where permission prompts and human QA go (must be an ops room). */
    ops_room: Schema.optional(Schema.NonEmptyTrimmedString),
    assistant: Schema.optionalWith(AssistantMode, { default: () => "off" as const }),
    /** A file (mode 0600) holding the credentials, instead of the environment. */
    credentials_file: Schema.optional(Schema.NonEmptyTrimmedString),
    /** The hour (UTC, 0-23) of the daily digest of what reached Done, for rooms that subscribe to "digest". */
    digest_hour: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 23)), { default: () => 9 }),
    /** Notifications for one room within this many milliseconds are sent as one message. */
    coalesce_ms: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 600_000)), { default: () => 2000 }),
  }),
  "a [<platform>] table",
)
export type PlatformConfig = typeof PlatformConfig.Type

export const BotConfig = asTable(
  Schema.Struct({
    slack: Schema.optional(PlatformConfig),
    discord: Schema.optional(PlatformConfig),
    matrix: Schema.optional(PlatformConfig),
    whatsapp: Schema.optional(PlatformConfig),
  }),
  "tables named for platforms: [slack], [discord], [matrix], [whatsapp]",
)
export type BotConfig = typeof BotConfig.Type

export const decodeBotConfig = (text: string, file: string): Either.Either<BotConfig, ConfigError> =>
  decodeToml(BotConfig, text, file)

/** The platforms the file enables, with their settings. */
/** The platforms bot.toml knows, as the chat contract (src/transports/chat/platform.ts) names them. */
export const botPlatforms = ["slack", "discord", "matrix", "whatsapp"] as const
export type BotPlatform = (typeof botPlatforms)[number]

export const enabledPlatforms = (config: BotConfig): ReadonlyArray<readonly [BotPlatform, PlatformConfig]> =>
  botPlatforms.flatMap((name) => {
    const platform = config[name]
    return platform?.enabled === true ? [[name, platform] as const] : []
  })

/** What a role may run: read-only commands for "read", everything for "ops". */
export const readVerbs: ReadonlySet<string> = new Set(["help", "status", "backlog", "show", "cost", "queue"])

/**
 * The role a person has in a room: the lesser of the room's and the person's (`"*"` in a list means
 * anyone); undefined when the room is not configured or the person is in neither list.
 */
export const roleOf = (config: PlatformConfig, room: string, user: string): ChatRole | undefined => {
  const configured = config.room.find((r) => r.id === room)
  if (configured === undefined) return undefined
  const inList = (list: ReadonlyArray<string>) => list.includes(user) || list.includes("*")
  const person: ChatRole | undefined = inList(config.users.ops)
    ? "ops"
    : inList(config.users.read)
      ? "read"
      : undefined
  if (person === undefined) return undefined
  return configured.role === "ops" && person === "ops" ? "ops" : "read"
}

/** Whether `role` may run the command whose first word is `verb`. */
export const mayRun = (role: ChatRole, verb: string): boolean => role === "ops" || readVerbs.has(verb)

export const botTomlName = "bot.toml"
