// Tests of the Slack settings: which connection the credentials choose, and what a missing one says.
import { PlatformConfig } from "../../../../src/domain/BotConfig.js"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Redacted, Schema } from "effect"
import { adapterEnv } from "../../../../src/transports/chat/credentials.js"
import { slackOptions } from "../../../../src/transports/chat/slack/slackConfig.js"

// Decoded as bot.toml is, so settings added later get their defaults.
const config = Schema.decodeUnknownSync(PlatformConfig)({
  enabled: true,
  room: [],
  users: { ops: [], read: [] },
  assistant: "off",
  coalesce_ms: 2000,
})
const optionsWith = (env: Record<string, string>) =>
  slackOptions(adapterEnv("/nonexistent", "slack", config, env)).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
  )

describe("Slack settings", () => {
  it.effect("an app token chooses Socket Mode, even with a signing secret", () =>
    Effect.gen(function* () {
      const options = yield* optionsWith({
        HUSKIES_SLACK_BOT_TOKEN: "xoxb-1",
        HUSKIES_SLACK_APP_TOKEN: "xapp-1",
        HUSKIES_SLACK_SIGNING_SECRET: "s",
      })
      expect(options.connection.mode).toBe("socket")
      expect(Redacted.value(options.botToken)).toBe("xoxb-1")
      expect(options.apiUrl).toBe("https://slack.com/api/")
    }),
  )

  it.effect("a signing secret alone chooses the Events API on the configured port", () =>
    Effect.gen(function* () {
      const options = yield* optionsWith({
        HUSKIES_SLACK_BOT_TOKEN: "xoxb-1",
        HUSKIES_SLACK_SIGNING_SECRET: "s",
        HUSKIES_SLACK_EVENTS_PORT: "3999",
        HUSKIES_SLACK_API_URL: "http://127.0.0.1:9/api",
      })
      expect(options.connection).toMatchObject({
        mode: "events",
        port: 3999,
        host: "127.0.0.1",
        path: "/slack/events",
      })
      expect(options.apiUrl).toBe("http://127.0.0.1:9/api/")
      // The secret stays redacted when the settings are printed.
      expect(JSON.stringify(options)).not.toContain('"s"')
    }),
  )

  it.effect("without a bot token, or without either connection credential, it names what to set", () =>
    Effect.gen(function* () {
      expect(yield* Effect.exit(optionsWith({ HUSKIES_SLACK_APP_TOKEN: "xapp-1" }))).toMatchObject(
        Exit.fail({ _tag: "MissingCredential", variable: "HUSKIES_SLACK_BOT_TOKEN" }),
      )
      expect(yield* Effect.exit(optionsWith({ HUSKIES_SLACK_BOT_TOKEN: "xoxb-1" }))).toMatchObject(
        Exit.fail({ _tag: "MissingCredential", variable: "HUSKIES_SLACK_APP_TOKEN" }),
      )
    }),
  )
})
