// src/actors/supervisorErrors.ts — the typed failures of a Supervisor: it gave up (escalation) or it has
// stopped. Raised by Supervisor.ts, which re-exports them.
import { Cause, Schema } from "effect"

export class SupervisorEscalation extends Schema.TaggedError<SupervisorEscalation>()("SupervisorEscalation", {
  supervisor: Schema.String,
  key: Schema.String,
  intensity: Schema.Number,
  periodMillis: Schema.Number,
  cause: Schema.CauseFromSelf({ error: Schema.Unknown, defect: Schema.Unknown }),
}) {
  override get message(): string {
    return `supervisor "${this.supervisor}" gave up: restarting child "${this.key}" would exceed ${this.intensity} restarts within ${this.periodMillis} ms; fix the cause below, then restart the supervisor.\n${Cause.pretty(this.cause)}`
  }
}

export class SupervisorStopped extends Schema.TaggedError<SupervisorStopped>()("SupervisorStopped", {
  supervisor: Schema.String,
}) {
  override get message(): string {
    return `supervisor "${this.supervisor}" has stopped and takes no new children; start a new supervisor`
  }
}
