// src/domain/chatVerbs.ts — the chat commands' verbs with their usage line, what each does and an example:
// the text of `help` and of every parse error. Pure data, used by src/domain/chatCommand.ts.
import { Schema } from "effect"

export const verbs = [
  "help",
  "status",
  "backlog",
  "show",
  "move",
  "start",
  "stop",
  "assign",
  "depends",
  "unblock",
  "delete",
  "timer",
  "cost",
  "queue",
  "approve",
  "reject",
] as const
export const Verb = Schema.Literal(...verbs)
export type Verb = typeof Verb.Type

export interface VerbHelp {
  /** `move <n> <stage> [reason]`: <required>, [optional], … repeats. */
  readonly usage: string
  readonly does: string
  readonly example: string
}

export const verbHelp: { readonly [V in Verb]: VerbHelp } = {
  help: { usage: "help [command]", does: "lists the commands, or explains one", example: "help move" },
  status: {
    usage: "status [n]",
    does: "the board at a glance, or everything about one item",
    example: "status 12",
  },
  backlog: {
    usage: "backlog",
    does: "the items waiting in Backlog and what they wait for",
    example: "backlog",
  },
  show: {
    usage: "show <n>",
    does: "an item's markdown (typing the number alone does the same)",
    example: "503",
  },
  move: {
    usage: "move <n> <stage> [reason]",
    does: "moves an item: backlog, coding, qa, merge, done or archived (a reason is needed to send QA back to coding)",
    example: "move 12 qa",
  },
  start: {
    usage: "start <n> [agent]",
    does: "starts work on an item now, with this agent if named",
    example: "start 12 coder-1",
  },
  stop: {
    usage: "stop <n>",
    does: "stops the item's agent and keeps it from restarting",
    example: "stop 12",
  },
  assign: {
    usage: "assign <n> <agent>",
    does: "pins the agent that works on the item",
    example: "assign 12 coder-2",
  },
  depends: {
    usage: "depends <n> <m>…",
    does: "sets what the item waits for (none clears it)",
    example: "depends 12 10 11",
  },
  unblock: {
    usage: "unblock <n>",
    does: "brings an archived (blocked, failed, held) item back to Backlog",
    example: "unblock 12",
  },
  delete: {
    usage: "delete <n> [confirm]",
    does: "deletes an item everywhere (its agent, worktree, branch and logs); asks to confirm first",
    example: "delete 12 confirm",
  },
  timer: {
    usage: "timer <n> <when>",
    does: "starts a Backlog item later: an ISO time, 09:30 (UTC), +30m, in 2h; off cancels",
    example: "timer 12 in 2h",
  },
  cost: {
    usage: "cost [n|today]",
    does: "tokens and cost of the agents' runs: all, one item, or today (UTC)",
    example: "cost today",
  },
  queue: { usage: "queue", does: "the merge queue: what merges now, what waits, and why", example: "queue" },
  approve: {
    usage: "approve <n> [note]",
    does: "approves the item's pending permission request, or its QA (it then merges)",
    example: "approve 12",
  },
  reject: {
    usage: "reject <n> <notes>",
    does: "denies the item's pending permission request, or sends its QA back to coding with the notes",
    example: "reject 12 the login form has no error message",
  },
}
