// src/transports/chat/slack/slackConfig.ts — the Slack adapter's settings: credentials only from the
// environment (Redacted, never logged) and which connection to use: Socket Mode or the Events API.
import { Config, Duration, Effect, Option, Redacted, Schema } from "effect"

export type SlackConnection =
  | { readonly mode: "socket"; readonly appToken: Redacted.Redacted<string> }
  | {
      readonly mode: "events"
      readonly signingSecret: Redacted.Redacted<string>
      /** The receiver's own port; Slack reaches it through the operator's reverse proxy or tunnel. */
      readonly port: number
      readonly host: string
      readonly path: string
    }

export interface SlackOptions {
  readonly botToken: Redacted.Redacted<string>
  readonly connection: SlackConnection
  /** The Web API base; tests point it at the local fake. */
  readonly apiUrl: string
  /** Reconnect backoff: doubles from `base` up to `max`. */
  readonly reconnectBase: Duration.Duration
  readonly reconnectMax: Duration.Duration
}

export class SlackNotConfigured extends Schema.TaggedError<SlackNotConfigured>()("SlackNotConfigured", {
  detail: Schema.String,
}) {
  override get message(): string {
    return `Slack: ${this.detail}`
  }
}

export const SLACK_API_URL = "https://slack.com/api/"

/** Where the Events API receiver listens when it is used (settings from the chat config). */
export interface SlackEventsSettings {
  readonly port?: number
  readonly host?: string
  readonly path?: string
  readonly apiUrl?: string
}

/**
 * Reads HUSKIES_SLACK_BOT_TOKEN (required) and HUSKIES_SLACK_APP_TOKEN (Socket Mode) or
 * HUSKIES_SLACK_SIGNING_SECRET (Events API over HTTP); Socket Mode wins when both are set.
 */
export const slackOptionsFromEnv = (settings: SlackEventsSettings = {}) =>
  Effect.gen(function* () {
    const env = yield* Config.all({
      botToken: Config.option(Config.redacted("HUSKIES_SLACK_BOT_TOKEN")),
      appToken: Config.option(Config.redacted("HUSKIES_SLACK_APP_TOKEN")),
      signingSecret: Config.option(Config.redacted("HUSKIES_SLACK_SIGNING_SECRET")),
    }).pipe(Effect.orDie)
    if (Option.isNone(env.botToken)) {
      return yield* new SlackNotConfigured({ detail: "set HUSKIES_SLACK_BOT_TOKEN (xoxb-…)" })
    }
    const connection: Option.Option<SlackConnection> = Option.match(env.appToken, {
      onSome: (appToken) => Option.some({ mode: "socket" as const, appToken }),
      onNone: () =>
        Option.map(env.signingSecret, (signingSecret) => ({
          mode: "events" as const,
          signingSecret,
          port: settings.port ?? 3100,
          host: settings.host ?? "127.0.0.1",
          path: settings.path ?? "/slack/events",
        })),
    })
    if (Option.isNone(connection)) {
      return yield* new SlackNotConfigured({
        detail:
          "set HUSKIES_SLACK_APP_TOKEN (xapp-…, Socket Mode) or HUSKIES_SLACK_SIGNING_SECRET (Events API)",
      })
    }
    return {
      botToken: env.botToken.value,
      connection: connection.value,
      apiUrl: settings.apiUrl ?? SLACK_API_URL,
      reconnectBase: Duration.millis(500),
      reconnectMax: Duration.seconds(60),
    } satisfies SlackOptions
  })
