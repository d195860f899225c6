// src/layers/Project.ts — the project this server runs for: its root, its `.huskies/` directory
// and when this server instance started. Provided once by `serve`, read by transports and actors.
import { Context, Layer } from "effect"
import { join } from "node:path"

export interface ProjectShape {
  readonly root: string
  readonly huskiesDir: string
  readonly dbPath: string
  /** Wall-clock start of this server instance (ms); also its boot identity for stale-job checks. */
  readonly startedAt: number
}

export class Project extends Context.Tag("huskies/Project")<Project, ProjectShape>() {}

export const projectPaths = (root: string) => {
  const huskiesDir = join(root, ".huskies")
  return { root, huskiesDir, dbPath: join(huskiesDir, "huskies.db") }
}

export const ProjectLive = (root: string, startedAt: number) =>
  Layer.succeed(Project, { ...projectPaths(root), startedAt })
