// test/support/mcpClient.ts — an MCP client of a running huskies server (the real SDK over Streamable
// HTTP) whose calls decode the tool's structured answer with a schema; bounded in time, closed with its scope.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect, Schema } from "effect"

/** Calls a tool and decodes its structured answer with `schema` (a defect if it fails or does not fit). */
export type CallTool = <A, I>(
  schema: Schema.Schema<A, I>,
  name: string,
  args?: Record<string, unknown>,
) => Effect.Effect<A>

/** An MCP client of the server at `url`, closed when the scope closes. */
export const mcpClient = (url: string) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.promise(async () => {
        const client = new Client({ name: "huskies-test", version: "1" })
        await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)))
        return client
      }).pipe(Effect.timeout("10 seconds"), Effect.orDie),
      // A client of a server that is about to be killed: how its close ends changes nothing here.
      (client) => Effect.tryPromise(() => client.close()).pipe(Effect.timeout("5 seconds"), Effect.ignore),
    ),
    (client): CallTool =>
      (schema, name, args = {}) =>
        Effect.promise(() => client.callTool({ name, arguments: args })).pipe(
          Effect.timeout("10 seconds"),
          Effect.orDie,
          Effect.flatMap((r) =>
            r.isError === true || r.structuredContent === undefined
              ? Effect.dieMessage(`${name} failed: ${JSON.stringify(r.content)}`)
              : Effect.orDie(Schema.decodeUnknown(schema)(r.structuredContent)),
          ),
        ),
  )

/** The items list_items returns over /mcp, asked by a one-off client sending `headers`; rejects as the client does. */
export const listItems = async (url: string, headers: Record<string, string> = {}) => {
  const client = new Client({ name: "check", version: "1" })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }))
  try {
    const result = await client.callTool({ name: "list_items", arguments: {} })
    return (result.structuredContent as { items: Array<{ id: string }> }).items
  } finally {
    await client.close()
  }
}
