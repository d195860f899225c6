// src/transports/nodes/workerAdmission.ts — what a worker remembers of its admission by a main node
// (`.huskies/run/admission.json`, 0600): once admitted, later starts sign in with the node key alone, so the
// one-time join token is needed on the first start only. Used by `huskies agent` (agentMode.ts).
import { Effect, Option, Schema } from "effect"
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { ensurePrivateDir, privateWrite } from "../../layers/privateFiles.js"

export const Admission = Schema.Struct({
  /** The main node's id (the Challenge's `server`). */
  server: Schema.String,
  /** The URL the worker dialled. */
  url: Schema.String,
  node: Schema.String,
  role: Schema.String,
  admittedAt: Schema.Int,
})
export type Admission = typeof Admission.Type

export const admissionPath = (root: string): string => join(root, ".huskies", "run", "admission.json")

/** The admission remembered at `root`, if any; a file that does not decode counts as none (and is logged). */
export const readAdmission = (root: string): Effect.Effect<Option.Option<Admission>> =>
  Effect.suspend(() => {
    const path = admissionPath(root)
    if (!existsSync(path)) return Effect.succeed(Option.none())
    return Schema.decodeUnknown(Schema.parseJson(Admission))(readFileSync(path, "utf8")).pipe(
      Effect.map(Option.some),
      // Unreadable: the node signs in as new, with the token it was given (or is told it needs one).
      Effect.catchAll((e) =>
        Effect.as(Effect.logWarning(`${path} is unreadable, ignoring it: ${e.message}`), Option.none()),
      ),
    )
  })

/** Remembers an admission (written aside and renamed, so a crash leaves the old file or the new one). */
export const writeAdmission = (root: string, admission: Admission): Effect.Effect<void> =>
  Effect.sync(() => {
    const path = admissionPath(root)
    ensurePrivateDir(dirname(path))
    mkdirSync(dirname(path), { recursive: true })
    const aside = `${path}.tmp`
    writeFileSync(aside, JSON.stringify(admission, null, 2), privateWrite)
    renameSync(aside, path)
  })
