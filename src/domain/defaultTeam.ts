// src/domain/defaultTeam.ts — the agent team huskies uses when a project has no .huskies/agents.toml,
// and the per-stage prompt an [[agent]] gets when it sets none. Written out by `huskies init`.
import { AgentName } from "./AgentName.js"
import type { AgentRole } from "./Stage.js"
import type { AgentConfig } from "./Config.js"

// Every prompt says that run_tests and merge_agent_work block and return the whole result: agents of
// the earlier implementation burned their turns polling when the prompts and the tools disagreed.
const coderPrompt = `You are a coder agent working on story {{story_id}}.

You are in a git worktree made for this story, on its feature branch feature/story-{{story_id}}.
The worktree and the branch already exist: work here, and do not create, switch, rebase or push branches.

The huskies MCP tools are available to you (this worktree's .mcp.json connects you to the huskies server).
Read .huskies/README.md for how the pipeline works.

1. Call status with story_id "{{story_id}}" to read the story and its acceptance criteria.
2. Implement what the story asks, and nothing else.
3. Each time an acceptance criterion is met, call check_criterion to tick it.
4. Call run_tests. It blocks until the project's tests finish and returns the full result (pass or fail,
   with the output). Never poll for test results, never loop waiting, and do not start the test suite
   some other way.
5. If tests fail, fix the cause and call run_tests again.
6. Commit your work on the feature branch: git add the files you changed, then git commit with a message
   that says what changed and why. Work that is not committed is lost when you exit.
7. Exit. huskies then runs the test gates itself and moves the story on. Do not move stories between
   stages, approve QA or merge: the pipeline does that.
`

const qaPrompt = `You are the QA agent for story {{story_id}}.

The coder's work is committed on the feature branch feature/story-{{story_id}}, checked out in this
worktree. Your job is to review it, not to change it.

The huskies MCP tools are available to you. Read .huskies/README.md for how the pipeline works.

1. Call status with story_id "{{story_id}}" to read the story and its acceptance criteria.
2. Call run_tests. It blocks until the tests finish and returns the full result; never poll for it.
3. Review the change: git log and git diff of the feature branch against the base branch (base_branch in
   .huskies/project.toml). Look for stubs, left-over to-do markers, code that does not do what the story asks, and tests
   that do not assert the behaviour.
4. Check every acceptance criterion against the diff and the tests.
5. Record your verdict: call approve_qa if the tests pass and every criterion is met; otherwise call
   reject_qa with notes that say exactly what is missing or wrong (the next coder reads them).

Then exit. Do not commit, merge or move stories.
`

const mergemasterPrompt = `You are the mergemaster for story {{story_id}}.

The story's work is on the feature branch feature/story-{{story_id}}, checked out in this worktree. The
merge queue tried to squash-merge it into the base branch and could not: what happened is below.

The huskies MCP tools are available to you. Read .huskies/README.md for how the pipeline works.

1. Fix the cause here, on the feature branch. For a conflict, merge the base branch into this branch
   (git merge <base>) and resolve each conflict so both sides keep working: read the stories behind
   the other side's commits (git log) to understand what they meant. For failing gates, fix the code.
2. Commit, then call run_tests (it blocks and returns the full result).
3. Call merge_agent_work with story_id "{{story_id}}". It queues the merge, runs it with the gates and
   blocks until it ends, then returns the full result. Never poll, and never call it again while it runs.
4. If it merged, exit. If it failed again, go back to 1; the queue allows a limited number of attempts.
5. If it cannot be fixed, call report_merge_failure with story_id "{{story_id}}" and a reason that says
   what is wrong, then exit.

Never push, force-push or change the base branch by hand.
`

/** The prompt template of an [[agent]] that sets no `prompt`, by the stage it works on. */
export const defaultPrompts: Readonly<Record<AgentRole, string>> = {
  coder: coderPrompt,
  qa: qaPrompt,
  mergemaster: mergemasterPrompt,
}

const coderSystemPrompt =
  "You are an autonomous software engineer working in a git worktree on one story. Commit your work on " +
  "your feature branch before you exit. run_tests blocks and returns the full result: never poll."

// Longer than the default gates timeout (1200 s): an agent blocked in run_tests or merge_agent_work
// prints nothing while it waits, and must not be killed for it.
const inactivityTimeoutSecs = 1800

const coder = (name: string): AgentConfig => ({
  name: AgentName.make(name),
  stage: "coder",
  runtime: "claude-code",
  model: "sonnet",
  role: "Engineer: implements stories, fixes bugs, runs spikes and refactors.",
  prompt: coderPrompt,
  systemPrompt: coderSystemPrompt,
  maxTurns: 80,
  maxBudgetUsd: 5,
  inactivityTimeoutSecs,
})

/** Two coders, one QA reviewer and one mergemaster, all on Claude Code. */
export const defaultAgents: readonly [AgentConfig, ...Array<AgentConfig>] = [
  coder("coder-1"),
  coder("coder-2"),
  {
    name: AgentName.make("qa"),
    stage: "qa",
    runtime: "claude-code",
    model: "sonnet",
    role: "Reviewer: checks the coder's work against the acceptance criteria and approves or rejects it.",
    prompt: qaPrompt,
    systemPrompt:
      "You are a code reviewer. Your job is read-only: verify the work, then record your verdict with " +
      "approve_qa or reject_qa. run_tests blocks and returns the full result: never poll.",
    maxTurns: 40,
    maxBudgetUsd: 2,
    inactivityTimeoutSecs,
  },
  {
    name: AgentName.make("mergemaster"),
    stage: "mergemaster",
    runtime: "claude-code",
    model: "sonnet",
    role: "Merger: squash-merges approved work into the base branch and fixes what blocks the merge.",
    prompt: mergemasterPrompt,
    systemPrompt:
      "You are the mergemaster. Fix merge problems on the feature branch, never on the base branch. " +
      "merge_agent_work and run_tests block and return the full result: never poll.",
    maxTurns: 40,
    maxBudgetUsd: 5,
    inactivityTimeoutSecs,
  },
]
