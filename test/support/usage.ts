// test/support/usage.ts — a usage ledger record with every field filled, for the ledger and tool tests.
import type { UsageRecord } from "../../src/layers/Usage.js"

export const usageRecord = (over: Partial<UsageRecord> = {}): UsageRecord => ({
  time: "2025-03-01T10:00:00.000Z",
  storyId: "1_story_a",
  agent: "coder-1",
  role: "coder",
  runtime: "claude-code",
  model: "sonnet",
  session: 1,
  outcome: "succeeded",
  numTurns: 3,
  inputTokens: 100,
  outputTokens: 10,
  cacheRead: 1000,
  cacheCreation: 50,
  costUsd: 0.5,
  ...over,
})
