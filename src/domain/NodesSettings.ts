// src/domain/NodesSettings.ts — project.toml's [nodes] table: several machines on one pipeline (lease of a
// claim, the git remote branches travel through, what workers run, whether the base is pushed). Part of
// ProjectConfig (Config.ts); read by the Scheduler, the claims, the merge queue and `huskies agent`.
import { Schema } from "effect"
import { AgentRole } from "./Stage.js"
import { asTable, expecting, expectingContainer } from "./tomlSchema.js"

const oneOf = (values: ReadonlyArray<string>): string => `one of ${values.join(", ")}`
const PositiveInt = Schema.Int.pipe(Schema.positive()).annotations(expecting("a whole number >= 1"))

const agentRoles = AgentRole.literals
const RemoteName = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)).annotations(
  expecting('a git remote name such as "origin"'),
)

/** Several nodes on one pipeline (docs/nodes.md): leases, where workers push, what they run. */
export const NodesSettings = asTable(
  Schema.Struct({
    /** How long a claim holds without a heartbeat; a node silent longer loses the item. */
    leaseSecs: Schema.optionalWith(PositiveInt, { default: () => 30, exact: true }).pipe(
      Schema.fromKey("lease_secs"),
    ),
    /** The git remote workers push feature branches to and every node fetches them from. */
    remote: Schema.optionalWith(RemoteName, { default: () => "origin", exact: true }),
    /** The stages a worker runs; QA and merges stay on the main node unless listed. */
    workerStages: Schema.optionalWith(
      Schema.Array(Schema.Literal(...agentRoles).annotations(expecting(oneOf(agentRoles)))).annotations(
        expectingContainer('an array such as ["coder"]'),
      ),
      { default: () => ["coder" as const], exact: true },
    ).pipe(Schema.fromKey("worker_stages")),
    /** Push the base branch to `remote` after each merge, so workers branch from merged work. */
    pushBase: Schema.optionalWith(Schema.Boolean.annotations(expecting("true or false")), {
      default: () => false,
      exact: true,
    }).pipe(Schema.fromKey("push_base")),
  }),
  "a [nodes] table",
)
export type NodesSettings = typeof NodesSettings.Type
