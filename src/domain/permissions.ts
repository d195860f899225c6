// src/domain/permissions.ts — the permission policy of `[permissions]` in project.toml: whether an agent
// may use a tool it has no standing permission for. Bash commands are parsed (bashCommand.ts), so a rule
// sees every command a line runs, unwrapped. "ask" hands the call to a person (a pending decision).
// Pure; prompt_permission applies it, Config decodes it.
import { Schema } from "effect"
import { analyseBash, type BashAnalysis } from "./bashCommand.js"

/** `Tool` or `Tool(pattern)`; `*` in either matches any run of characters. */
export const permissionRule = /^([A-Za-z0-9_.:*-]+)(?:\((.*)\))?$/s

export const PermissionRule = Schema.String.pipe(
  Schema.filter((rule) =>
    permissionRule.test(rule)
      ? undefined
      : `expected "Tool" or "Tool(pattern)", e.g. "Bash(git push*)" or "mcp__*", got ${JSON.stringify(rule)}`,
  ),
)

export interface PermissionPolicy {
  /** What happens to a tool no rule names. */
  readonly default: "allow" | "deny" | "ask"
  readonly allow: ReadonlyArray<string>
  /** Checked first: a deny rule wins over an ask or allow rule. */
  readonly deny: ReadonlyArray<string>
  /** Checked after deny, before allow: a person decides. */
  readonly ask?: ReadonlyArray<string>
}

/** What a rule's pattern is matched against: the input that says what the call would do. */
export const subjectOf = (toolName: string, input: Readonly<Record<string, unknown>>): string => {
  const text = (key: string) => (typeof input[key] === "string" ? (input[key] as string) : undefined)
  if (toolName === "Bash") return text("command") ?? ""
  if (toolName === "WebFetch") return text("url") ?? ""
  return text("file_path") ?? text("notebook_path") ?? text("path") ?? JSON.stringify(input)
}

const glob = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "s",
  )

const parseRule = (rule: string) => {
  const parsed = permissionRule.exec(rule)
  if (parsed === null) return undefined
  const [, tool = "", pattern] = parsed
  return { tool: glob(tool), pattern: pattern === undefined ? undefined : glob(pattern) }
}

const matches = (rule: string, toolName: string, subject: string): boolean => {
  const parsed = parseRule(rule)
  return parsed !== undefined && parsed.tool.test(toolName) && (parsed.pattern?.test(subject) ?? true)
}

export type PermissionDecision =
  | { readonly behavior: "allow"; readonly rule?: string }
  | { readonly behavior: "deny"; readonly rule?: string; readonly message: string }
  /** A person decides (prompt_permission opens a decision and waits for the answer). */
  | { readonly behavior: "ask"; readonly rule?: string }

const deniedBy = (toolName: string, rule: string): PermissionDecision => ({
  behavior: "deny",
  rule,
  message: `${toolName} is not allowed here: it matches the deny rule "${rule}" in [permissions] of .huskies/project.toml. Do the work another way, or stop and say what you needed.`,
})

const byDefault = (policy: PermissionPolicy, toolName: string): PermissionDecision =>
  policy.default !== "deny"
    ? { behavior: policy.default }
    : {
        behavior: "deny",
        message: `${toolName} is not allowed here: no allow rule in [permissions] of .huskies/project.toml names it, and the default is deny. Do the work another way, or stop and say what you needed.`,
      }

/**
 * A Bash command line: a deny rule matches when it matches the line as written or any command the line
 * runs (its texts: as written, with wrappers removed, git's global options set aside), and so does an
 * ask rule; an allow rule must match every command the line runs. A line that cannot be parsed is never
 * allowed (nor asked about: a person could not tell what it runs either).
 */
const decideBash = (
  policy: PermissionPolicy,
  command: string,
  analysis: BashAnalysis,
): PermissionDecision => {
  const texts =
    analysis._tag === "Commands" ? [...analysis.commands.flatMap((c) => c.texts), ...analysis.wrappers] : []
  const matchesAny = (rule: string, subjects: ReadonlyArray<string>) => {
    const parsed = parseRule(rule)
    if (parsed === undefined || !parsed.tool.test("Bash")) return false
    const { pattern } = parsed
    return pattern === undefined || subjects.some((subject) => pattern.test(subject))
  }
  const denied = policy.deny.find((rule) => matchesAny(rule, [command, ...texts]))
  if (denied !== undefined) return deniedBy("Bash", denied)
  if (analysis._tag === "Unparsable")
    return {
      behavior: "deny",
      message: `Bash is not allowed here: huskies could not parse this command (${analysis.reason}), so it cannot check it against the [permissions] rules of .huskies/project.toml. Use a simpler form: one command per call, plain quotes, no eval, and no $(...), variable or here-document that decides which program runs (a long commit message can come from a quoted here-document: git commit -F - <<'EOF').`,
    }
  const asked = (policy.ask ?? []).find((rule) => matchesAny(rule, [command, ...texts]))
  if (asked !== undefined) return { behavior: "ask", rule: asked }
  const whole = policy.allow.find((rule) => {
    const parsed = parseRule(rule)
    return parsed !== undefined && parsed.pattern === undefined && parsed.tool.test("Bash")
  })
  if (whole !== undefined) return { behavior: "allow", rule: whole }
  const ruleFor = (subjects: ReadonlyArray<string>) => policy.allow.find((rule) => matchesAny(rule, subjects))
  const perCommand = analysis.commands.map((c) =>
    ruleFor(analysis.commands.length === 1 ? [command, ...c.texts] : c.texts),
  )
  const [first] = perCommand
  if (first !== undefined && perCommand.every((rule) => rule !== undefined))
    return { behavior: "allow", rule: first }
  return byDefault(policy, "Bash")
}

/** Tools only people may use, whatever the rules say: an agent must not answer its own request. */
const peopleOnly = /^mcp__.+__answer_decision$/

export const decidePermission = (
  policy: PermissionPolicy,
  toolName: string,
  input: Readonly<Record<string, unknown>>,
): PermissionDecision => {
  if (peopleOnly.test(toolName))
    return {
      behavior: "deny",
      message: `${toolName} is for people, not agents: a decision (yours or another agent's) is answered by a person. Wait for the answer, or stop and say what you needed.`,
    }
  const subject = subjectOf(toolName, input)
  if (toolName === "Bash") return decideBash(policy, subject, analyseBash(subject))
  const denied = policy.deny.find((rule) => matches(rule, toolName, subject))
  if (denied !== undefined) return deniedBy(toolName, denied)
  const asked = (policy.ask ?? []).find((rule) => matches(rule, toolName, subject))
  if (asked !== undefined) return { behavior: "ask", rule: asked }
  const allowed = policy.allow.find((rule) => matches(rule, toolName, subject))
  if (allowed !== undefined) return { behavior: "allow", rule: allowed }
  return byDefault(policy, toolName)
}
