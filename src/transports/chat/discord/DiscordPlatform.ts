// src/transports/chat/discord/DiscordPlatform.ts — the Discord adapter: a discord.js gateway client that turns
// mentions, DMs, `/huskies <command line>` and button presses into the chat door's events, and sends/edits
// messages (with button rows, threaded per item) over REST. Used by the chat door through ../adapters.ts.
import {
  ApplicationCommandOptionType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  Partials,
  Routes,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type Message,
} from "discord.js"
import { Config, Effect, Option, Queue, Redacted, Runtime, Schedule, type Scope, Stream } from "effect"
import {
  type ChatPlatform,
  type Incoming,
  type Outgoing,
  type Place,
  PlatformUnavailable,
} from "../platform.js"
import { messageBody, stripMention, threadName } from "./wire.js"

export interface DiscordSettings {
  readonly token: Redacted.Redacted<string>
  /** REST base; discord.js appends `/v10`. Absent = Discord itself. Tests point it at a local fake. */
  readonly api?: string
  /** Registers `/huskies` in this guild only (shows at once); absent = globally (can take an hour). */
  readonly guildId?: string
}

/** How the chat door hands an adapter its secrets (the environment or a 0600 file; see ../credentials.ts). */
export interface DiscordSecrets<E> {
  readonly secret: (name: string) => Effect.Effect<Redacted.Redacted<string>, E>
}

/**
 * Connects with HUSKIES_DISCORD_TOKEN (a secret: the environment or the credentials file). Not secret, from
 * the environment: HUSKIES_DISCORD_GUILD (register `/huskies` in that server only, at once) and
 * HUSKIES_DISCORD_API_URL (another REST base, such as a local fake).
 */
export const connectDiscord = <E>(env: DiscordSecrets<E>): Effect.Effect<ChatPlatform, E, Scope.Scope> =>
  Effect.gen(function* () {
    const token = yield* env.secret("TOKEN")
    // A plain optional string cannot fail to decode; only a broken ConfigProvider could, and that is a defect.
    const { guildId, api } = yield* Config.all({
      guildId: Config.option(Config.string("HUSKIES_DISCORD_GUILD")),
      api: Config.option(Config.string("HUSKIES_DISCORD_API_URL")),
    }).pipe(Effect.orDie)
    const set = (value: Option.Option<string>) => Option.filter(value, (v) => v.trim() !== "")
    return yield* makeDiscordPlatform({
      token,
      ...Option.match(set(guildId), { onNone: () => ({}), onSome: (id) => ({ guildId: id }) }),
      ...Option.match(set(api), { onNone: () => ({}), onSome: (url) => ({ api: url }) }),
    })
  })

type Event = Stream.Stream.Success<ChatPlatform["events"]>

/** Discord's error for a channel id that is not (yet) a channel: a thread root that has no thread yet. */
const unknownChannel = 10003
/** Discord's error when a thread already exists for a message (another send created it first). */
const threadExists = 160004

/** The slash command: one string option holding the same command line a mention would carry. */
const slashCommand = {
  name: "huskies",
  description: "Run a huskies command (try: help)",
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: "command",
      description: "The command line, e.g. status 503",
      required: true,
    },
  ],
}

const describe = (error: unknown): string =>
  error instanceof DiscordAPIError
    ? `${error.status} ${error.code}: ${error.message}`
    : error instanceof Error
      ? error.message
      : String(error)

/** Connects to Discord and keeps connecting for as long as the scope lives; never fails. */
export const makeDiscordPlatform = (
  settings: DiscordSettings,
): Effect.Effect<ChatPlatform, never, Scope.Scope> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const log = (level: "warning" | "info", message: string) =>
      Runtime.runFork(runtime)(
        (level === "warning" ? Effect.logWarning(message) : Effect.logInfo(message)).pipe(
          Effect.annotateLogs("platform", "discord"),
        ),
      )
    const events = yield* Effect.acquireRelease(Queue.unbounded<Event>(), Queue.shutdown)
    const client = new Client({
      intents: [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.GuildMessages,
        GatewayIntentBits.MessageContent,
        GatewayIntentBits.DirectMessages,
      ],
      // Without the Channel partial, discord.js drops DMs whose channel it has not cached yet.
      partials: [Partials.Channel],
      // One retry: the door's outbox retries later, and a send must not hang while Discord is down.
      rest: { ...(settings.api !== undefined && { api: settings.api }), retries: 1, timeout: 10_000 },
    })
    // A lost session or a refused token stops discord.js for good; this queue wakes the supervisor.
    const lost = yield* Queue.dropping<number>(1)

    const placeOf = (channelId: string): Place => {
      const channel = client.channels.cache.get(channelId)
      return channel?.isThread() && channel.parentId !== null
        ? { room: channel.parentId, thread: channelId }
        : { room: channelId }
    }

    const onMessage = (message: Message) => {
      if (message.author.bot || client.user === null) return
      const { text, found } = stripMention(message.content, client.user.id)
      const incoming: Incoming = {
        platform: "discord",
        place: placeOf(message.channelId),
        user: message.author.id,
        userName: `discord:${message.author.username}`,
        text,
        mentioned: found || message.channel.isDMBased() || message.mentions.users.has(client.user.id),
        messageId: message.id,
      }
      Queue.unsafeOffer(events, { _tag: "Message", message: incoming })
    }

    const onSlash = async (interaction: ChatInputCommandInteraction) => {
      const line = interaction.options.getString("command", true).trim()
      // Discord wants an answer within 3 s: echo the command so the room sees who asked what; the door's
      // answer follows as an ordinary message (threaded under this echo if the door threads replies).
      const response = await interaction.reply({
        content: `**${interaction.user.username}**: \`${line}\``,
        withResponse: true,
      })
      Queue.unsafeOffer(events, {
        _tag: "Message",
        message: {
          platform: "discord",
          place: placeOf(interaction.channelId),
          user: interaction.user.id,
          userName: `discord:${interaction.user.username}`,
          text: line,
          mentioned: true,
          messageId: response.resource?.message?.id ?? interaction.id,
        },
      })
    }

    const onButton = (interaction: ButtonInteraction) => {
      // The press counts even if its acknowledgement fails; the door edits the prompt once it has decided.
      Queue.unsafeOffer(events, {
        _tag: "Pressed",
        press: {
          platform: "discord",
          place: placeOf(interaction.channelId),
          user: interaction.user.id,
          userName: `discord:${interaction.user.username}`,
          action: interaction.customId,
          messageId: interaction.message.id,
        },
      })
      return interaction.deferUpdate()
    }

    const onInteraction = (interaction: Interaction) => {
      const handled = interaction.isChatInputCommand()
        ? interaction.commandName === slashCommand.name
          ? onSlash(interaction)
          : undefined
        : interaction.isButton()
          ? onButton(interaction)
          : undefined
      handled?.catch((error: unknown) =>
        log("warning", `could not answer an interaction: ${describe(error)}`),
      )
    }

    const onReady = () => {
      const register =
        settings.guildId !== undefined
          ? Routes.applicationGuildCommands(client.application!.id, settings.guildId)
          : Routes.applicationCommands(client.application!.id)
      client.rest
        .put(register, { body: [slashCommand] })
        .then(() => log("info", `connected as ${client.user?.username ?? "?"}; /huskies registered`))
        .catch((error: unknown) => log("warning", `could not register /huskies: ${describe(error)}`))
    }

    client.on(Events.MessageCreate, onMessage)
    client.on(Events.InteractionCreate, onInteraction)
    client.on(Events.ClientReady, onReady)
    // discord.js reconnects and resumes by itself; these only report (an unheard "error" would throw).
    client.on(Events.Error, (error) => log("warning", `gateway error: ${describe(error)}`))
    client.on(Events.ShardResume, () => log("info", "gateway resumed"))
    client.on(Events.ShardDisconnect, (event) => {
      log("warning", `gateway closed for good (code ${event.code}); reconnecting`)
      Queue.unsafeOffer(lost, event.code)
    })

    // The supervisor: log in (retrying with backoff while Discord is unreachable), then wait until the
    // session is lost beyond what discord.js recovers, and start over. Never fails, so `events` never ends.
    const login = Effect.tryPromise({
      try: () => client.login(Redacted.value(settings.token)),
      catch: (error) => new PlatformUnavailable({ platform: "discord", detail: describe(error) }),
    }).pipe(
      Effect.tapError((error) => Effect.logWarning(`could not connect: ${error.detail}`)),
      Effect.retry(Schedule.exponential("1 second").pipe(Schedule.union(Schedule.spaced("1 minute")))),
    )
    yield* Effect.gen(function* () {
      yield* login
      yield* Queue.take(lost)
      yield* Effect.promise(() => client.destroy())
      yield* Effect.sleep("5 seconds")
      yield* Queue.takeAll(lost)
    }).pipe(Effect.forever, Effect.annotateLogs("platform", "discord"), Effect.forkScoped)
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => {
        client.removeAllListeners()
        return client.destroy()
      }),
    )

    const rest = <A>(what: string, call: () => Promise<A>) =>
      Effect.tryPromise({
        try: call,
        catch: (error) =>
          new PlatformUnavailable({ platform: "discord", detail: `${what}: ${describe(error)}` }),
      })

    const isCode = (error: unknown, code: number) => error instanceof DiscordAPIError && error.code === code

    /** Posts into the place's thread, opening the thread on its root message the first time. */
    const post = async (message: Outgoing): Promise<string> => {
      const body = messageBody(message.text, message.buttons, message.id)
      const thread = message.place.thread
      const create = (channel: string) =>
        client.rest.post(Routes.channelMessages(channel), { body }) as Promise<{ id: string }>
      if (thread === undefined) return (await create(message.place.room)).id
      try {
        return (await create(thread)).id
      } catch (error) {
        if (!isCode(error, unknownChannel)) throw error
      }
      // A thread started from a message takes that message's id, so the root id names the thread.
      const opened = await client.rest
        .post(Routes.threads(message.place.room, thread), {
          body: { name: threadName(message.text), auto_archive_duration: 1440 },
        })
        .then(
          () => true,
          (error: unknown) => {
            if (isCode(error, threadExists)) return true
            // Refused for good (a DM has no threads, the root is gone, no permission): the room gets it
            // instead, since a message out of its thread beats one retried forever. Outages still fail.
            if (error instanceof DiscordAPIError && error.status < 500 && error.status !== 429) return false
            throw error
          },
        )
      return (await create(opened ? thread : message.place.room)).id
    }

    const platform: ChatPlatform = {
      name: "discord",
      threads: true,
      buttons: true,
      events: Stream.fromQueue(events),
      send: (message) => rest("send", () => post(message)).pipe(Effect.map((messageId) => ({ messageId }))),
      update: (place, messageId, message) =>
        rest("update", () =>
          client.rest.patch(Routes.channelMessage(place.thread ?? place.room, messageId), {
            body: messageBody(message.text, message.buttons),
          }),
        ).pipe(Effect.asVoid),
    }
    return platform
  })
