// src/transports/chat/whatsapp/whatsappConfig.ts — the WhatsApp adapter's settings: secrets from the
// environment or credentials file (HUSKIES_WHATSAPP_TOKEN, _APP_SECRET, _VERIFY_TOKEN, _PHONE_NUMBER_ID),
// the receiver's address, Graph URL and template from plain variables. Used by connectWhatsApp.
import { Config, Effect, Redacted } from "effect"
import type { PlatformConfig } from "../../../domain/BotConfig.js"
import { type AdapterEnv, MissingCredential } from "../credentials.js"
import { makeWhatsAppPlatform, type WhatsAppSettings } from "./WhatsAppPlatform.js"

const plain = Config.all({
  host: Config.withDefault(Config.string("HUSKIES_WHATSAPP_WEBHOOK_HOST"), "127.0.0.1"),
  // 0 lets the system pick a free port (tests); the bound one is the platform's webhookPort.
  port: Config.withDefault(
    Config.integer("HUSKIES_WHATSAPP_WEBHOOK_PORT").pipe(
      Config.validate({ message: "a port number from 0 to 65535", validation: (n) => n >= 0 && n <= 65535 }),
    ),
    3101,
  ),
  graphUrl: Config.withDefault(
    Config.string("HUSKIES_WHATSAPP_GRAPH_URL"),
    "https://graph.facebook.com/v21.0",
  ),
  templateName: Config.withDefault(Config.string("HUSKIES_WHATSAPP_TEMPLATE"), "huskies_update"),
  templateLanguage: Config.withDefault(Config.string("HUSKIES_WHATSAPP_TEMPLATE_LANGUAGE"), "en"),
})

export const whatsappSettings = (
  _config: PlatformConfig,
  env: AdapterEnv,
): Effect.Effect<WhatsAppSettings, MissingCredential> =>
  Effect.gen(function* () {
    const token = yield* env.secret("TOKEN")
    const appSecret = yield* env.secret("APP_SECRET")
    const verifyToken = yield* env.secret("VERIFY_TOKEN")
    const phoneNumberId = Redacted.value(yield* env.secret("PHONE_NUMBER_ID"))
    const p = yield* plain.pipe(
      Effect.mapError(
        (error) =>
          new MissingCredential({
            variable: "HUSKIES_WHATSAPP_*",
            detail: `invalid setting: ${error.toString()}`,
          }),
      ),
    )
    return {
      token,
      appSecret,
      verifyToken,
      phoneNumberId,
      graphUrl: p.graphUrl.replace(/\/+$/, ""),
      webhook: { host: p.host, port: p.port, allowedHosts: env.allowedHosts ?? [] },
      template: { name: p.templateName, language: p.templateLanguage },
    }
  })

/** The registry's entry (src/transports/chat/adapters.ts). */
export const connectWhatsApp = (config: PlatformConfig, env: AdapterEnv) =>
  Effect.flatMap(whatsappSettings(config, env), (settings) => makeWhatsAppPlatform(settings, env.memory))
