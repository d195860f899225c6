// test/fakes/sse.ts — Server-Sent Events and JSON responses for the fake model APIs: Anthropic names
// each event (`event: message_start`), OpenAI Responses does too, Gemini sends bare `data:` lines.
import type { ServerResponse } from "node:http"

export interface EventStream {
  /** Writes `event: <name>` and the JSON data. */
  readonly event: (name: string, data: unknown) => void
  /** Writes a `data:` line only. */
  readonly data: (data: unknown) => void
  readonly end: () => void
}

export const openEventStream = (
  res: ServerResponse,
  headers: Readonly<Record<string, string>> = {},
): EventStream => {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    ...headers,
  })
  // A client that hung up (or a fake closed mid-answer) must not make the fake throw.
  const write = (chunk: string) => {
    if (!res.destroyed && !res.writableEnded) res.write(chunk)
  }
  return {
    event: (name, data) => write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`),
    data: (data) => write(`data: ${JSON.stringify(data)}\n\n`),
    end: () => {
      if (!res.destroyed && !res.writableEnded) res.end()
    },
  }
}

export const sendJson = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void => {
  if (res.destroyed || res.writableEnded) return
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify(body))
}
