// src/domain/permissions.ts — the permission policy of `[permissions]` in project.toml: whether an agent
// may use a tool it has no standing permission for. Pure; prompt_permission applies it, Config decodes it.
import { Schema } from "effect"

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
  readonly default: "allow" | "deny"
  readonly allow: ReadonlyArray<string>
  /** Checked first: a deny rule wins over an allow rule. */
  readonly deny: ReadonlyArray<string>
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

const matches = (rule: string, toolName: string, subject: string): boolean => {
  const parsed = permissionRule.exec(rule)
  if (parsed === null) return false
  const [, tool = "", pattern] = parsed
  return glob(tool).test(toolName) && (pattern === undefined || glob(pattern).test(subject))
}

export type PermissionDecision =
  | { readonly behavior: "allow"; readonly rule?: string }
  | { readonly behavior: "deny"; readonly rule?: string; readonly message: string }

export const decidePermission = (
  policy: PermissionPolicy,
  toolName: string,
  input: Readonly<Record<string, unknown>>,
): PermissionDecision => {
  const subject = subjectOf(toolName, input)
  const denied = policy.deny.find((rule) => matches(rule, toolName, subject))
  if (denied !== undefined)
    return {
      behavior: "deny",
      rule: denied,
      message: `${toolName} is not allowed here: it matches the deny rule "${denied}" in [permissions] of .huskies/project.toml. Do the work another way, or stop and say what you needed.`,
    }
  const allowed = policy.allow.find((rule) => matches(rule, toolName, subject))
  if (allowed !== undefined) return { behavior: "allow", rule: allowed }
  return policy.default === "allow"
    ? { behavior: "allow" }
    : {
        behavior: "deny",
        message: `${toolName} is not allowed here: no allow rule in [permissions] of .huskies/project.toml names it, and the default is deny. Do the work another way, or stop and say what you needed.`,
      }
}
