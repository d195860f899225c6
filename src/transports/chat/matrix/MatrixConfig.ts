// src/transports/chat/matrix/MatrixConfig.ts — the Matrix bot's credentials, read from the environment
// (HUSKIES_MATRIX_HOMESERVER, HUSKIES_MATRIX_USER_ID, HUSKIES_MATRIX_ACCESS_TOKEN); the token stays
// Redacted so it never reaches a log. Used by MatrixPlatform and the chat door's adapter registry.
import { Config, type Redacted } from "effect"

export interface MatrixSettings {
  /** The homeserver's base URL (https://matrix.example.org). */
  readonly homeserver: string
  /** The bot's full user id (@huskies:example.org). */
  readonly userId: string
  readonly accessToken: Redacted.Redacted<string>
  /** Rooms (ids or aliases) the bot joins on start; rooms it was already in are kept. */
  readonly rooms?: ReadonlyArray<string>
}

export const matrixSettingsFromEnv: Config.Config<MatrixSettings> = Config.all({
  homeserver: Config.url("HUSKIES_MATRIX_HOMESERVER").pipe(
    Config.map((url) => url.toString().replace(/\/$/, "")),
  ),
  userId: Config.string("HUSKIES_MATRIX_USER_ID").pipe(
    Config.validate({
      message: "HUSKIES_MATRIX_USER_ID must be a full Matrix user id such as @huskies:example.org",
      validation: (id) => /^@[^:]+:.+$/.test(id),
    }),
  ),
  accessToken: Config.redacted("HUSKIES_MATRIX_ACCESS_TOKEN"),
})
