// src/transports/chat/slack/slackConfig.ts — the Slack adapter's settings: credentials from the environment
// or the 0600 credentials file (Redacted, never logged), and the connection: Socket Mode or the Events API.
import { Config, Duration, Effect, type Redacted } from "effect"
import { MissingCredential, type AdapterEnv } from "../credentials.js"

export type SlackConnection =
  | { readonly mode: "socket"; readonly appToken: Redacted.Redacted<string> }
  | {
      readonly mode: "events"
      readonly signingSecret: Redacted.Redacted<string>
      /** The receiver's own port; Slack reaches it through the operator's reverse proxy or tunnel. */
      readonly port: number
      readonly host: string
      readonly path: string
      /** Names besides the bind that Host may give (project.toml's allowed_hosts: a proxy's public name). */
      readonly allowedHosts?: ReadonlyArray<string>
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

export const SLACK_API_URL = "https://slack.com/api/"

/**
 * The Slack settings: HUSKIES_SLACK_BOT_TOKEN (required) and HUSKIES_SLACK_APP_TOKEN (Socket Mode) or
 * HUSKIES_SLACK_SIGNING_SECRET (Events API), from the environment or the 0600 credentials file; Socket
 * Mode wins when both are set. Not secret, from the environment: HUSKIES_SLACK_EVENTS_PORT (3100),
 * HUSKIES_SLACK_EVENTS_HOST (127.0.0.1), HUSKIES_SLACK_EVENTS_PATH (/slack/events), HUSKIES_SLACK_API_URL.
 */
export const slackOptions = (env: AdapterEnv): Effect.Effect<SlackOptions, MissingCredential> =>
  Effect.gen(function* () {
    const botToken = yield* env.secret("BOT_TOKEN")
    const appToken = yield* env.optionalSecret("APP_TOKEN")
    const signingSecret = yield* env.optionalSecret("SIGNING_SECRET")
    const settings = yield* Config.all({
      port: Config.withDefault(Config.port("HUSKIES_SLACK_EVENTS_PORT"), 3100),
      host: Config.withDefault(Config.string("HUSKIES_SLACK_EVENTS_HOST"), "127.0.0.1"),
      path: Config.withDefault(Config.string("HUSKIES_SLACK_EVENTS_PATH"), "/slack/events"),
      apiUrl: Config.withDefault(Config.string("HUSKIES_SLACK_API_URL"), SLACK_API_URL),
    }).pipe(
      Effect.mapError(
        (e) =>
          new MissingCredential({ variable: "HUSKIES_SLACK_EVENTS_*", detail: `bad setting: ${String(e)}` }),
      ),
    )
    const connection: SlackConnection | undefined =
      appToken !== undefined
        ? { mode: "socket", appToken }
        : signingSecret !== undefined
          ? {
              mode: "events",
              signingSecret,
              port: settings.port,
              host: settings.host,
              path: settings.path,
              allowedHosts: env.allowedHosts ?? [],
            }
          : undefined
    if (connection === undefined) {
      return yield* new MissingCredential({
        variable: "HUSKIES_SLACK_APP_TOKEN",
        detail: "set it (xapp-…, Socket Mode) or HUSKIES_SLACK_SIGNING_SECRET (Events API over HTTP)",
      })
    }
    return {
      botToken,
      connection,
      apiUrl: settings.apiUrl.endsWith("/") ? settings.apiUrl : `${settings.apiUrl}/`,
      reconnectBase: Duration.millis(500),
      reconnectMax: Duration.seconds(60),
    }
  })
