// test/fakes/httpBody.ts — reads a whole request body as text: the fakes of outside HTTP APIs (the model
// API, a Matrix homeserver, WhatsApp's Graph API) all take their requests' bodies this way.
import type { IncomingMessage } from "node:http"

export const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })
