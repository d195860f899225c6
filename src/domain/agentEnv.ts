// src/domain/agentEnv.ts — an agent's `env` table in agents.toml: variable names and values checked when
// the file is decoded, and `${NAME}` references filled from the server's environment when it is loaded
// (layers/Config), so a reference to an unset variable stops huskies naming the agent, key and variable.
import { Either, Schema } from "effect"
import { ConfigError, type ConfigIssue, expecting, expectingContainer, formatKeyPath } from "./tomlSchema.js"

// POSIX: letters, digits and "_", not starting with a digit (lowercase is accepted, as every shell does).
const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Set by huskies for every agent (story, worktree, MCP URL, token): an agent's table may not change them. */
export const reservedEnvPrefix = "HUSKIES_"

/** Why `name` cannot be a key of an env table, or undefined if it can. */
const envNameProblem = (name: string): string | undefined =>
  !envNamePattern.test(name)
    ? `${JSON.stringify(name)} is not an environment variable name: use letters, digits and "_", not starting with a digit, e.g. RUST_LOG`
    : name.startsWith(reservedEnvPrefix)
      ? `names starting with ${reservedEnvPrefix} are set by huskies for every agent; pick another name`
      : undefined

/** `${NAME}` is a reference; `$${` writes a literal `${`; any other `$` is itself. */
const token = /\$\$\{|\$\{([^}]*)\}|\$\{/g

type Part = { readonly text: string } | { readonly variable: string }

const parts = (value: string): Either.Either<ReadonlyArray<Part>, string> => {
  const out: Array<Part> = []
  let last = 0
  for (const m of value.matchAll(token)) {
    out.push({ text: value.slice(last, m.index) })
    last = m.index + m[0].length
    if (m[0] === "$${") out.push({ text: "${" })
    else if (m[0] === "${")
      return Either.left('has a "${" without its closing "}": write ${NAME}, or $${ for a literal ${')
    else if (!envNamePattern.test(m[1] ?? ""))
      return Either.left(
        `refers to ${m[0]}, which is not a variable name: write \${NAME} (letters, digits, "_"), or $\${ for a literal \${`,
      )
    else out.push({ variable: m[1] ?? "" })
  }
  out.push({ text: value.slice(last) })
  return Either.right(out)
}

const EnvValue = Schema.String.annotations(expecting('a string (quote numbers: PORT = "8080")')).pipe(
  Schema.filter((value) =>
    value.includes("\0")
      ? "contains a NUL byte, which no environment variable can hold"
      : Either.match(parts(value), { onLeft: (why) => why, onRight: () => true }),
  ),
)

/**
 * `env = { KEY = "value" }`: variables set for this agent on top of the server's environment and the
 * runtime's own. A value may name a variable of the server's environment, `"${OPENAI_API_KEY}"`.
 */
// A Record whose key schema refuses a key drops that key silently; the keys are checked here instead.
export const AgentEnv = Schema.Record({ key: Schema.String, value: EnvValue })
  .annotations(expectingContainer('a table such as env = { RUST_LOG = "debug", API_KEY = "${MY_API_KEY}" }'))
  .pipe(
    Schema.filter((env) =>
      Object.keys(env).flatMap((key) => {
        const problem = envNameProblem(key)
        return problem === undefined ? [] : [{ path: [key], message: problem }]
      }),
    ),
  )
export type AgentEnv = typeof AgentEnv.Type

/** The variables `value` refers to, in order. Only for values that decoded as an AgentEnv value. */
export const envReferences = (value: string): ReadonlyArray<string> =>
  Either.match(parts(value), {
    onLeft: () => [],
    onRight: (ps) => ps.flatMap((p) => ("variable" in p ? [p.variable] : [])),
  })

/** `value` with its references filled from `env`, or the first variable that is not set. */
export const fillEnvValue = (
  value: string,
  env: Readonly<Record<string, string | undefined>>,
): Either.Either<string, { readonly unset: string }> => {
  const decoded = parts(value)
  if (Either.isLeft(decoded)) return Either.right(value)
  let out = ""
  for (const part of decoded.right) {
    if ("text" in part) out += part.text
    else {
      const found = env[part.variable]
      if (found === undefined) return Either.left({ unset: part.variable })
      out += found
    }
  }
  return Either.right(out)
}

interface WithEnv {
  readonly name: string
  readonly env?: AgentEnv
}

/**
 * Fills every agent's env references from the server's environment `serverEnv`. Each reference to an
 * unset variable is an issue naming the agent, the key and the variable; `file` names agents.toml.
 */
export const fillAgentsEnv = <A extends WithEnv>(
  agents: readonly [A, ...Array<A>],
  serverEnv: Readonly<Record<string, string | undefined>>,
  file: string,
): Either.Either<readonly [A, ...Array<A>], ConfigError> => {
  const issues: Array<ConfigIssue> = []
  const fill = (agent: A, index: number): A => {
    if (agent.env === undefined) return agent
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(agent.env)) {
      const result = fillEnvValue(value, serverEnv)
      if (Either.isRight(result)) env[key] = result.right
      else
        issues.push({
          keyPath: formatKeyPath(["agent", index, "env", key]),
          message: `agent "${agent.name}": ${key} refers to \${${result.left.unset}}, which is not set in the environment huskies was started with: set ${result.left.unset} before starting huskies, or change the value`,
        })
    }
    return { ...agent, env }
  }
  const [head, ...tail] = agents
  const filled: readonly [A, ...Array<A>] = [fill(head, 0), ...tail.map((agent, i) => fill(agent, i + 1))]
  const [first, ...rest] = issues
  return first === undefined
    ? Either.right(filled)
    : Either.left(new ConfigError({ file, issues: [first, ...rest] }))
}
