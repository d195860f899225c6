// test/transports/chat/door/config.test.ts — bot.toml decoded with errors naming the key, roles as the
// lesser of room and person, credentials from the environment or a 0600 file only, and a platform whose
// connection fails being connected again by its supervisor while the pipeline is untouched.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Redacted, Ref } from "effect"
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { decodeBotConfig, enabledPlatforms, mayRun, roleOf } from "../../../../src/domain/BotConfig.js"
import { OutboxLive } from "../../../../src/layers/Outbox.js"
import type { PlatformAdapter } from "../../../../src/transports/chat/adapters.js"
import { adapterEnv } from "../../../../src/transports/chat/credentials.js"
import { startDoors } from "../../../../src/transports/chat/door/serveChat.js"
import { PlatformUnavailable } from "../../../../src/transports/chat/platform.js"
import { ok, withTools } from "../../../support/tools.js"
import { makeFakePlatform, slackConfig } from "./fakePlatform.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "huskies-bot-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
)

describe("bot.toml", () => {
  it("decodes defaults and refuses a bad key naming it", () => {
    const good = decodeBotConfig('[matrix]\nenabled = true\n[[matrix.room]]\nid = "!a:x"\n', "bot.toml")
    expect(Either.isRight(good)).toBe(true)
    if (Either.isRight(good)) {
      expect(enabledPlatforms(good.right).map(([name]) => name)).toEqual(["matrix"])
      expect(good.right.matrix).toMatchObject({
        assistant: "off",
        coalesce_ms: 2000,
        room: [{ role: "read", notify: [] }],
      })
    }
    const bad = decodeBotConfig(
      '[slack]\nenabled = true\n[[slack.room]]\nid = "C1"\nrole = "admin"\nnotify = ["moves", "gossip"]\n',
      "bot.toml",
    )
    expect(Either.isLeft(bad)).toBe(true)
    if (Either.isLeft(bad)) {
      expect(bad.left.message).toContain('slack.room[0].role: expected "ops" or "read", got "admin"')
      expect(bad.left.message).toContain("slack.room[0].notify[1]")
    }
    const unknown = decodeBotConfig("[telegram]\nenabled = true\n", "bot.toml")
    expect(Either.isLeft(unknown) && unknown.left.message).toContain("telegram")
  })

  it("a role is the lesser of the room's and the person's; strangers have none", () => {
    const config = slackConfig()
    expect(roleOf(config, "C-ops", "alice")).toBe("ops")
    expect(roleOf(config, "C-read", "alice")).toBe("read")
    expect(roleOf(config, "C-ops", "bob")).toBe("read")
    expect(roleOf(config, "C-ops", "mallory")).toBeUndefined()
    expect(roleOf(config, "C-elsewhere", "alice")).toBeUndefined()
    expect(mayRun("read", "status")).toBe(true)
    expect(mayRun("read", "approve")).toBe(false)
    expect(mayRun("ops", "delete")).toBe(true)
  })

  it.scoped(
    "credentials come from the environment, else a 0600 file; a file others can read is refused",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const file = join(dir, "slack.env")
        writeFileSync(file, "# secrets\nHUSKIES_SLACK_BOT_TOKEN=xoxb-file\nAPP_TOKEN=xapp-file\n")
        chmodSync(file, 0o600)
        const config = slackConfig(`credentials_file = "${file}"`)
        const env = adapterEnv(dir, "slack", config, { HUSKIES_SLACK_BOT_TOKEN: "xoxb-env" })
        expect(Redacted.value(yield* env.secret("BOT_TOKEN"))).toBe("xoxb-env")
        expect(Redacted.value(yield* env.secret("APP_TOKEN"))).toBe("xapp-file")
        expect(yield* env.optionalSecret("SIGNING_SECRET")).toBeUndefined()
        const missing = yield* Effect.flip(env.secret("SIGNING_SECRET"))
        expect(missing.variable).toBe("HUSKIES_SLACK_SIGNING_SECRET")
        chmodSync(file, 0o644)
        const open = yield* Effect.flip(adapterEnv(dir, "slack", config, {}).secret("APP_TOKEN"))
        expect(open.message).toContain("chmod 600")
      }),
  )
})

describe("supervision", () => {
  it.live("a platform that fails to connect is connected again, and its door then works", () =>
    withTools((root) =>
      Effect.gen(function* () {
        yield* ok("create_story", { name: "Add login" })
        const fake = yield* makeFakePlatform
        const tries = yield* Ref.make(0)
        const flaky: PlatformAdapter = () =>
          Effect.flatMap(
            Ref.updateAndGet(tries, (n) => n + 1),
            (n) =>
              n < 3
                ? Effect.fail(new PlatformUnavailable({ platform: "slack", detail: "connection refused" }))
                : Effect.succeed(fake.platform),
          )
        const refuse: PlatformAdapter = () => Effect.dieMessage("not enabled, never called")
        const decoded = decodeBotConfig(
          '[slack]\nenabled = true\ncoalesce_ms = 50\n[slack.users]\nops = ["alice"]\n[[slack.room]]\nid = "C-ops"\nrole = "ops"\n',
          "bot.toml",
        )
        if (Either.isLeft(decoded)) return yield* Effect.die(decoded.left)
        yield* Effect.provide(
          startDoors(root, decoded.right, {
            adapters: { slack: flaky, discord: refuse, matrix: refuse, whatsapp: refuse },
            restart: "10 millis",
          }),
          OutboxLive(join(root, ".huskies", "outbox.db")).pipe(Layer.orDie),
        )
        yield* fake.say("alice", "move 1 coding")
        expect((yield* fake.nextSent()).text).toBe("Moved 1: Backlog → Coding.")
        expect(yield* Ref.get(tries)).toBe(3)
      }),
    ),
  )
})
