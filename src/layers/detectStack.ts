// src/layers/detectStack.ts — guesses a project's test (and lint/build) commands from its marker files,
// for the [commands] table `huskies init` writes. Used by layers/Scaffold.
import { FileSystem } from "@effect/platform"
import { Effect, Option } from "effect"
import * as path from "node:path"
import type { Commands } from "../domain/Config.js"

export type StackName = "make" | "node" | "rust" | "go" | "python"

export interface DetectedStack {
  readonly stack: StackName
  /** The file that decided it, relative to the project root. */
  readonly marker: string
  readonly commands: Commands
}

/** Files whose presence or content `detectStackFrom` looks at. */
export const stackMarkers = [
  "Makefile",
  "makefile",
  "GNUmakefile",
  "package.json",
  "pnpm-lock.yaml",
  "yarn.lock",
  "Cargo.toml",
  "go.mod",
  "pyproject.toml",
  "setup.cfg",
  "uv.lock",
  "poetry.lock",
] as const

// Rule heads such as `test:`, `test lint: deps` or `test::`; not `test := value` or `test ::= value`.
const makeTargets = (makefile: string): ReadonlySet<string> =>
  new Set(
    makefile
      .split("\n")
      .flatMap((line) => /^([^:#=\s][^:#=]*):(?!=)(?!:=)/.exec(line)?.[1]?.trim().split(/\s+/) ?? []),
  )

const packageScripts = (packageJson: string): Readonly<Record<string, string>> => {
  try {
    const parsed: unknown = JSON.parse(packageJson)
    if (typeof parsed !== "object" || parsed === null || !("scripts" in parsed)) return {}
    const scripts: unknown = parsed.scripts
    if (typeof scripts !== "object" || scripts === null) return {}
    return Object.fromEntries(
      Object.entries(scripts).filter((e): e is [string, string] => typeof e[1] === "string"),
    )
  } catch {
    // A package.json that does not parse tells us nothing about its scripts; the user sets the command.
    return {}
  }
}

// `npm init` writes this placeholder test script, which always fails: it is not a test suite.
const isPlaceholderTest = (script: string): boolean => /no test specified/.test(script)

/**
 * Decides from the marker files' contents (absent files are not in `files`). Precedence, first match wins:
 * 1. a Makefile with a `test` target -> `make test`: the authors' own entry point, which usually wraps
 *    whatever the stack below would run (and more, in polyglot repositories);
 * 2. package.json with a real `test` script -> `npm test` (`pnpm test`/`yarn test` when their lockfile is
 *    there), plus `lint`/`build` scripts when present;
 * 3. Cargo.toml -> `cargo test`; 4. go.mod -> `go test ./...`;
 * 5. pyproject.toml or setup.cfg -> `pytest` (`uv run pytest`/`poetry run pytest` with their lockfile).
 */
export const detectStackFrom = (files: ReadonlyMap<string, string>): Option.Option<DetectedStack> => {
  const makefile = ["GNUmakefile", "makefile", "Makefile"].find((name) => files.has(name))
  if (makefile !== undefined) {
    const targets = makeTargets(files.get(makefile) ?? "")
    if (targets.has("test"))
      return Option.some({
        stack: "make",
        marker: makefile,
        commands: {
          test: "make test",
          ...(targets.has("lint") ? { lint: "make lint" } : {}),
          ...(targets.has("build") ? { build: "make build" } : {}),
        },
      })
  }
  const packageJson = files.get("package.json")
  if (packageJson !== undefined) {
    const scripts = packageScripts(packageJson)
    const runner = files.has("pnpm-lock.yaml") ? "pnpm" : files.has("yarn.lock") ? "yarn" : "npm"
    if (scripts["test"] !== undefined && !isPlaceholderTest(scripts["test"]))
      return Option.some({
        stack: "node",
        marker: "package.json",
        commands: {
          test: `${runner} test`,
          ...(scripts["lint"] !== undefined ? { lint: `${runner} run lint` } : {}),
          ...(scripts["build"] !== undefined ? { build: `${runner} run build` } : {}),
        },
      })
  }
  if (files.has("Cargo.toml"))
    return Option.some({
      stack: "rust",
      marker: "Cargo.toml",
      commands: { test: "cargo test", build: "cargo build" },
    })
  if (files.has("go.mod"))
    return Option.some({
      stack: "go",
      marker: "go.mod",
      commands: { test: "go test ./...", lint: "go vet ./...", build: "go build ./..." },
    })
  const python = ["pyproject.toml", "setup.cfg"].find((name) => files.has(name))
  if (python !== undefined) {
    const runner = files.has("uv.lock") ? "uv run " : files.has("poetry.lock") ? "poetry run " : ""
    return Option.some({ stack: "python", marker: python, commands: { test: `${runner}pytest` } })
  }
  return Option.none()
}

/** Reads the marker files present in `root` and decides with `detectStackFrom`. */
export const detectStack = (
  root: string,
): Effect.Effect<Option.Option<DetectedStack>, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const found = yield* Effect.forEach(stackMarkers, (name) =>
      fs.readFileString(path.join(root, name)).pipe(
        Effect.map((text) => [name, text] as const),
        // Unreadable is the same as absent here: detection is a convenience, the user can set the command.
        Effect.orElseSucceed(() => undefined),
      ),
    )
    return detectStackFrom(new Map(found.filter((entry) => entry !== undefined)))
  })
