// src/transports/cli/init.ts — `huskies init [path]`: scaffolds .huskies/ and tells the person what
// was created, kept and committed, and what to run next.
import { Console, Effect, Option } from "effect"
import { resolve } from "node:path"
import { initProject } from "../../layers/Scaffold.js"

export const runInit = (path: string) =>
  Effect.gen(function* () {
    const report = yield* initProject(resolve(path))
    const lines: Array<string> = [`huskies init ${report.root}`]
    for (const f of report.created) lines.push(`  created  ${f}`)
    for (const f of report.updated) lines.push(`  updated  ${f}`)
    for (const f of report.kept) lines.push(`  kept     ${f} (already there; not changed)`)
    for (const u of report.uncommitted) lines.push(`  not committed: ${u.path} (${u.reason})`)
    lines.push(
      Option.match(report.commit, {
        onNone: () => "  nothing to commit",
        onSome: (sha) => `  committed ${sha.slice(0, 12)} (only the files above, by path)`,
      }),
    )
    lines.push(
      `  base branch: ${report.baseBranch}; test command: ${Option.match(report.stack, {
        onNone: () => "none detected (set [commands] test in .huskies/project.toml)",
        onSome: (s) => `${s.commands.test ?? "none"} (from ${s.marker})`,
      })}`,
    )
    for (const note of report.notes) lines.push(`  note: ${note}`)
    lines.push(`next: huskies serve ${path}`)
    yield* Console.log(lines.join("\n"))
  })
