// src/transports/http/health.ts — GET /health: is the server up, which build, which node, which project.
import { HttpServerResponse } from "@effect/platform"
import { Clock, Effect } from "effect"
import { buildInfo } from "../../layers/BuildInfo.js"
import { Project } from "../../layers/Project.js"
import { PipelineView } from "../../actors/PipelineView.js"

export const health = Effect.gen(function* () {
  const project = yield* Project
  const store = yield* PipelineView
  const now = yield* Clock.currentTimeMillis
  const { version, commit } = buildInfo()
  return yield* HttpServerResponse.json({
    status: "ok",
    version,
    commit,
    nodeId: store.nodeId,
    projectRoot: project.root,
    startedAt: new Date(project.startedAt).toISOString(),
    uptimeSeconds: Math.max(0, Math.round((now - project.startedAt) / 100) / 10),
  })
})
