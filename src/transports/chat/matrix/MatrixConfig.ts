// src/transports/chat/matrix/MatrixConfig.ts — the Matrix bot's settings: homeserver, user id and access
// token from the environment (HUSKIES_MATRIX_HOMESERVER, HUSKIES_MATRIX_USER_ID,
// HUSKIES_MATRIX_ACCESS_TOKEN) or the credentials file, rooms from bot.toml. Used by connectMatrix.
import { Effect, Redacted } from "effect"
import type { PlatformConfig } from "../../../domain/BotConfig.js"
import { type AdapterEnv, MissingCredential } from "../credentials.js"

export interface MatrixSettings {
  /** The homeserver's base URL (https://matrix.example.org), without a trailing slash. */
  readonly homeserver: string
  /** The bot's full user id (@huskies:example.org). */
  readonly userId: string
  /** Stays Redacted until the SDK is constructed, so it never reaches a log. */
  readonly accessToken: Redacted.Redacted<string>
  /** Rooms (ids or aliases) the bot joins on start; rooms it was already in are kept. */
  readonly rooms?: ReadonlyArray<string>
}

export const matrixSettings = (
  config: PlatformConfig,
  env: AdapterEnv,
): Effect.Effect<MatrixSettings, MissingCredential> =>
  Effect.gen(function* () {
    const homeserver = Redacted.value(yield* env.secret("HOMESERVER")).replace(/\/+$/, "")
    if (!/^https?:\/\/[^/]+/.test(homeserver))
      return yield* new MissingCredential({
        variable: "HUSKIES_MATRIX_HOMESERVER",
        detail: "must be the homeserver's URL, such as https://matrix.example.org",
      })
    const userId = Redacted.value(yield* env.secret("USER_ID"))
    if (!/^@[^:]+:.+$/.test(userId))
      return yield* new MissingCredential({
        variable: "HUSKIES_MATRIX_USER_ID",
        detail: "must be the bot's full Matrix user id, such as @huskies:example.org",
      })
    const accessToken = yield* env.secret("ACCESS_TOKEN")
    return { homeserver, userId, accessToken, rooms: config.room.map((room) => room.id) }
  })
