// src/layers/storeErrors.ts — what the Store refuses, as tagged errors whose messages say what to do:
// an unknown item, a content edit out of range or raced, a timer for the wrong stage. Re-exported by Store.
import { Schema } from "effect"
import { type TimerKind, timerStages } from "../domain/Timer.js"

export class ItemNotFound extends Schema.TaggedError<ItemNotFound>()("ItemNotFound", { id: Schema.String }) {
  override get message(): string {
    return `no work item ${this.id}: list_items shows the ids that exist`
  }
}

export class ContentEditError extends Schema.TaggedError<ContentEditError>()("ContentEditError", {
  id: Schema.String,
  field: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `cannot edit the content of ${this.id}: ${this.field} ${this.detail}`
  }
}

export class ContentConflict extends Schema.TaggedError<ContentConflict>()("ContentConflict", {
  id: Schema.String,
}) {
  override get message(): string {
    return `the content of ${this.id} changed while this edit was prepared; nothing was written: read it again and retry`
  }
}

export class TimerRefused extends Schema.TaggedError<TimerRefused>()("TimerRefused", {
  id: Schema.String,
  kind: Schema.String,
  stage: Schema.String,
}) {
  override get message(): string {
    const allowed = timerStages[this.kind as TimerKind].join(" or ")
    return `cannot set a ${this.kind} timer on ${this.id}: it is in ${this.stage}, and ${this.kind} timers are only for items in ${allowed}`
  }
}
