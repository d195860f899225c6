// src/layers/scaffoldReadme.ts — the text of .huskies/README.md that `huskies init` writes: how the
// pipeline works, for the agents huskies runs in this project (their prompts point them here).

export const agentGuide = `# Working in a huskies project

This project's work is run by huskies, which turns a backlog of work items into
merged, tested code by running AI coding agents. This file tells those agents (and the people working
with them) how the pipeline works. Settings are in \`project.toml\`; the agent team in \`agents.toml\`.

## Work items

A work item has an id \`{n}_{kind}_{slug}\`, such as \`12_story_add_login\`. Its kind is a **story**
(new behaviour), a **bug** (fix what is broken, with a small, surgical change), a **spike** (find out,
and write down what you found; no production code) or a **refactor** (change the structure, not the
behaviour).

Its content is markdown with YAML front matter (\`name\`, \`agent\`, \`depends_on\`, \`qa\`) and the
sections \`## User Story\`, \`## Description\` and \`## Acceptance Criteria\`. Acceptance criteria are
checkboxes:

    - [ ] Users can log in with email and password
    - [x] A wrong password shows an error

The criteria are the definition of done. A coder ticks each one with the \`check_criterion\` tool once
it is met; never edit the checkboxes by hand.

## Stages

    Backlog -> Coding -> QA -> Merge -> Done
    any of them -> Archived (blocked, merge failed, abandoned, superseded, ...)

- **Backlog**: the item waits until every item in its \`depends_on\` is Done and a coder is free.
- **Coding**: a coder agent works on it (see below). When the coder exits, huskies runs the gates: the
  \`[commands]\` in \`project.toml\` (build, lint, test). If they pass, the item moves to QA. If they fail,
  a coder is started again with the failure output in its prompt, up to \`retry_limit\` times; after
  that the item is archived as Blocked.
- **QA**: depending on the item's \`qa:\` (default: \`default_qa\` in \`project.toml\`) a QA agent reviews
  the work and calls \`approve_qa\` or \`reject_qa\`, a person approves it, or it goes straight on.
  A rejection sends the item back to Coding with the reviewer's notes.
- **Merge**: the merge queue squash-merges the feature branch into the base branch, one merge at a
  time, and runs the gates on the result; the base branch moves only if they pass. A conflict or a gate
  failure goes to the mergemaster, which fixes the feature branch and calls \`merge_agent_work\` to merge
  again (up to \`[merge] attempts\`), or \`report_merge_failure\` if it cannot.
- **Done**: merged; the worktree and feature branch are removed. **Archived**: stopped, with the reason
  recorded.

Agents never move items between stages themselves: the pipeline does, from what the tools report.

## Worktrees and branches

Each item being worked on has its own git worktree, \`.huskies/worktrees/{story_id}\`, on its own branch,
\`feature/story-{story_id}\`. The worktree and the branch exist before an agent starts.

- Work only in your worktree. Do not create, switch, rebase or push branches, and do not touch the base
  branch or other worktrees.
- Commit your work on the feature branch (\`git add\` the files you changed, \`git commit\`) before you
  exit: the gates, QA and the merge only see what is committed.

## MCP tools

Agents reach huskies through MCP: the \`.mcp.json\` in each worktree points at the huskies server. Use
the tools for everything about the pipeline; never edit huskies' own files or state by hand.

| Tool | What it does |
|------|--------------|
| \`status\` | The item: its content, stage, acceptance criteria and git state |
| \`get_pipeline_status\` | Every item and where it is |
| \`check_criterion\` | Tick an acceptance criterion |
| \`run_tests\` | Run the project's test command in your worktree |
| \`approve_qa\`, \`reject_qa\` | Record a QA verdict (with notes when rejecting) |
| \`merge_agent_work\` | Squash-merge the item's feature branch into the base branch |
| \`report_merge_failure\` | Give up on a merge, with the reason |
| \`create_story\`, \`update_story\` | File or edit a work item |

**Long tools block.** \`run_tests\` and \`merge_agent_work\` do not return until the work is done, and
then return the whole result (pass or fail, with the output). Never poll for a result, never call them
in a loop, and never sleep and retry: call once, read the result, act on it.

## Files in .huskies/

| Path | |
|------|--|
| \`project.toml\` | Project settings: base branch, gate commands, limits, QA default, server port |
| \`agents.toml\` | The agent team: runtimes, models, prompts, limits |
| \`README.md\` | This guide |
| \`huskies.db*\` | huskies' state (SQLite). Local, git-ignored: never edit or commit it |
| \`worktrees/\` | One git worktree per item being worked on. Local, git-ignored |
| \`logs/\` | Agent session logs. Local, git-ignored |
`
