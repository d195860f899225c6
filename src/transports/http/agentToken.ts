// src/transports/http/agentToken.ts — the agents' own credential, apart from the person's token: serve
// gives it to the agents it starts as HUSKIES_TOKEN, the access guard admits it on /mcp only and marks
// the request, and tools meant for people (answer_decision, accept_story) refuse a marked call.
import { createHmac } from "node:crypto"

/**
 * HMAC-SHA256 of a fixed label keyed with the person's token. Derived, so it needs no storage and stays
 * the same across restarts (an agent's MCP config keeps working); one-way, so an agent holding it
 * learns nothing of the person's token, with which alone one can log in or answer a decision.
 */
export const agentToken = (token: string): string =>
  createHmac("sha256", token).update("huskies agent token v1", "utf8").digest("base64url")

/**
 * The header the guard sets on a request admitted with the agent token (and removes from every other,
 * so no client can set it): the MCP endpoint reads it into the tool call's context.
 */
export const agentHeader = "x-huskies-agent"
