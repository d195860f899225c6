// src/transports/mcp/jsonRpcMessages.ts — what McpEndpoint reads of a raw /mcp exchange before the SDK
// transport sees it: the JSON-RPC body and its request ids, an initialize, an error answer, and when a
// response stream ends.

export type RequestId = string | number

export const jsonRpcError = (status: number, code: number, message: string): Response =>
  new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }), {
    status,
    headers: { "content-type": "application/json" },
  })

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const messages = (body: unknown): Array<unknown> => (Array.isArray(body) ? body : [body])

/** The ids of the requests (not notifications or responses) in a JSON-RPC message or batch. */
export const requestIds = (body: unknown): Array<RequestId> =>
  messages(body).flatMap((m: unknown) =>
    isObject(m) &&
    typeof m["method"] === "string" &&
    (typeof m["id"] === "string" || typeof m["id"] === "number")
      ? [m["id"]]
      : [],
  )

export const asksToInitialize = (body: unknown): boolean =>
  messages(body).some((m) => isObject(m) && m["method"] === "initialize")

/** A POST body: parsed when it is JSON, else the text, which the transport answers as it always has. */
export type Body =
  { readonly _tag: "Json"; readonly value: unknown } | { readonly _tag: "Text"; readonly text: string }

export const parseBody = (text: string): Body => {
  try {
    return { _tag: "Json", value: JSON.parse(text) as unknown }
  } catch {
    return { _tag: "Text", text }
  }
}

/** `body`, passed through, with `onClose` called once when it ends, fails or its reader cancels it. */
export const watchClose = (
  body: ReadableStream<Uint8Array>,
  onClose: () => void,
): ReadableStream<Uint8Array> => {
  const reader = body.getReader()
  let open = true
  const closed = () => {
    if (open) {
      open = false
      onClose()
    }
  }
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      try {
        const chunk = await reader.read()
        if (!chunk.done) return controller.enqueue(chunk.value)
        closed()
        controller.close()
      } catch (error) {
        closed()
        controller.error(error)
      }
    },
    cancel: (reason) => {
      closed()
      return reader.cancel(reason)
    },
  })
}
