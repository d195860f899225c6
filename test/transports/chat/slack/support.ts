// test/transports/chat/slack/support.ts — the local fake Slack for a test's scope, and the Slack adapter on
// it as serve connects it; used by the Slack adapter, Slack door and assistant-through-Slack tests.
import { ConfigProvider, type Duration, Effect } from "effect"
import type { PlatformConfig } from "../../../../src/domain/BotConfig.js"
import { platformAdapters } from "../../../../src/transports/chat/adapters.js"
import { adapterEnv } from "../../../../src/transports/chat/credentials.js"
import { SlackFake } from "../../../fakes/slack/SlackFake.js"

export const BOT = "xoxb-1111-2222-BOTSECRETVALUE"
export const APP = "xapp-1-A0001-3333-APPSECRETVALUE"

/** The fake Slack, started with BOT and APP as its tokens and stopped when the scope closes. */
export const scopedSlackFake = Effect.acquireRelease(
  Effect.promise(async () => {
    const fake = new SlackFake({ botToken: BOT, appToken: APP })
    await fake.start()
    return fake
  }),
  (fake) => Effect.promise(() => fake.stop()),
)

/** The Slack adapter as serve connects it (the registry's entry, credentials from the environment), on `fake`. */
export const slackAdapterOn = (fake: SlackFake, root: string, config: PlatformConfig) =>
  platformAdapters
    .slack(
      config,
      adapterEnv(root, "slack", config, { HUSKIES_SLACK_BOT_TOKEN: BOT, HUSKIES_SLACK_APP_TOKEN: APP }),
    )
    .pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["HUSKIES_SLACK_API_URL", fake.apiUrl]]))),
    )

/** Waits until an adapter on `fake` has opened its Socket Mode connection (the fake said hello). */
export const awaitHello = (fake: SlackFake) =>
  Effect.promise(() => fake.until(() => fake.hellos > 0)).pipe(Effect.timeout("10 seconds"))

/** The `count`th message posted to `fake`, once there is one. */
export const postedAt = (fake: SlackFake, count: number, within: Duration.DurationInput = "10 seconds") =>
  Effect.promise(() => fake.until(() => fake.posted.length >= count)).pipe(
    Effect.timeout(within),
    Effect.map(() => fake.posted[count - 1]!),
  )

/** `user` mentions the bot with `text` in the ops channel's thread 1700000000.000001, over Socket Mode. */
export const mentionInThread = (fake: SlackFake, user: string, text: string, ts: string) =>
  fake.sendEvent({
    type: "app_mention",
    channel: "C0OPS",
    user,
    text: `<@${fake.botUserId}> ${text}`,
    ts,
    thread_ts: "1700000000.000001",
  })
