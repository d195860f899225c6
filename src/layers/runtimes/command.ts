// src/layers/runtimes/command.ts — the `command` runtime: any program (`command = [...]` in agents.toml)
// run in the worktree with the story, prompt and MCP URL in its environment. Its output is text, except
// lines that are JSON agent events (`{"type":"Usage","inputTokens":...}`), so a scripted or test agent
// can report usage, results and rate limits like a real CLI.
import { Either, Schema } from "effect"
import { join } from "node:path"
import { AgentEvent, type AgentEventTag, agentEventTags } from "./agentEvents.js"
import {
  type BuildInput,
  huskiesEnv,
  type LaunchSpec,
  makeLineParser,
  messageFor,
  type ParserOptions,
  type RuntimeAdapter,
  type StreamParser,
} from "./Runtime.js"

/** Where the prompt is written: a program may prefer a file to a (possibly long) variable. */
export const promptFile = (worktree: string) => join(worktree, ".huskies-prompt.md")

/**
 * The program and its arguments as configured (run without a shell), with:
 * HUSKIES_STORY_ID, HUSKIES_WORKTREE, HUSKIES_MCP_URL, HUSKIES_AGENT, HUSKIES_PROMPT (the message,
 * at most 100 KiB: see messageFor), HUSKIES_PROMPT_FILE (the same text in the worktree), and
 * HUSKIES_RESUME_SESSION_ID when resuming a session the program reported (SessionStarted). When the
 * server requires a token, HUSKIES_TOKEN holds it (serve puts it in every agent's environment): send
 * it as `Authorization: Bearer $HUSKIES_TOKEN` to HUSKIES_MCP_URL.
 */
export const buildCommand = (input: BuildInput): LaunchSpec => {
  const argv = input.agent.command
  // The agents.toml schema requires `command` exactly when runtime = "command".
  if (argv === undefined)
    throw new Error(
      `agent ${input.agent.name} has runtime "command" but no command: the config decoder let it through`,
    )
  const [program, ...args] = argv
  const message = messageFor(input)
  const file = promptFile(input.worktree)
  return {
    command: program,
    args,
    env: {
      ...huskiesEnv(input),
      HUSKIES_AGENT: input.agent.name,
      HUSKIES_PROMPT: message,
      HUSKIES_PROMPT_FILE: file,
      ...(input.resumeSessionId === undefined ? {} : { HUSKIES_RESUME_SESSION_ID: input.resumeSessionId }),
    },
    files: [{ path: file, content: `${message}\n` }],
  }
}

const isTag = (type: unknown): type is AgentEventTag =>
  typeof type === "string" && (agentEventTags as ReadonlyArray<string>).includes(type)

const decodeEvent = Schema.decodeUnknownEither(AgentEvent)

/** JSON lines whose `type` names an AgentEvent and that decode as one are that event; the rest is Text. */
export const makeCommandParser = (options: ParserOptions = {}): StreamParser =>
  makeLineParser(
    {
      json: (value, line) => {
        const { type, ...fields } = value
        if (!isTag(type)) return [{ _tag: "Text", text: line }]
        const event = Either.getOrUndefined(decodeEvent({ ...fields, _tag: type }))
        return [event ?? { _tag: "Text", text: line }]
      },
      text: (line) => [{ _tag: "Text", text: line }],
    },
    options,
  )

export const command: RuntimeAdapter = {
  runtime: "command",
  build: buildCommand,
  makeStreamParser: makeCommandParser,
}
