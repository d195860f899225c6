// test/layers/ServerEnv.test.ts — huskies' own environment settings through effect's Config: the
// defaults, a value in any case, and a bad value refused with the variable named.
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Layer, LogLevel } from "effect"
import { ServerEnv, ServerEnvFixed, ServerEnvLive } from "../../src/layers/ServerEnv.js"

const fromEnv = (vars: Record<string, string>) =>
  Layer.build(ServerEnvLive).pipe(
    Effect.map(Context.get(ServerEnv)),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(vars)))),
  )

describe("ServerEnv", () => {
  it.scoped("logs at info when HUSKIES_LOG_LEVEL is unset", () =>
    Effect.gen(function* () {
      expect((yield* fromEnv({})).logLevel).toBe(LogLevel.Info)
    }),
  )

  it.scoped("reads HUSKIES_LOG_LEVEL in any case", () =>
    Effect.gen(function* () {
      expect((yield* fromEnv({ HUSKIES_LOG_LEVEL: "debug" })).logLevel).toBe(LogLevel.Debug)
      expect((yield* fromEnv({ HUSKIES_LOG_LEVEL: "WARN" })).logLevel).toBe(LogLevel.Warning)
    }),
  )

  it.scoped("refuses a level it does not know, naming the variable", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(fromEnv({ HUSKIES_LOG_LEVEL: "loud" }))
      expect(error._tag).toBe("EnvError")
      expect(error.message).toBe(
        'environment: Invalid data at HUSKIES_LOG_LEVEL: "Expected a log level but received "loud""; set a valid value or unset it',
      )
    }),
  )

  it.effect("gives tests fixed settings over the defaults", () =>
    Effect.gen(function* () {
      expect((yield* ServerEnv).logLevel).toBe(LogLevel.Error)
    }).pipe(Effect.provide(ServerEnvFixed({ logLevel: LogLevel.Error }))),
  )
})
