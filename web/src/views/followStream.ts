// web/src/views/followStream.ts — runs one of the server's streams (a terminal, the logs) for as long as
// a page shows it: after a dropped connection it subscribes again with backoff, and a refusal stops it
// with its message. Used by Terminal.tsx and LogsPage.tsx. No polling: each attempt waits on the stream.
import { Duration, Effect, Either, Fiber, Stream } from "effect"
import { Api, failureMessage, runtime } from "../api/client.js"
import { backoffMillis } from "./backoff.js"

export interface FollowHandlers<A> {
  /** The first element of each attempt arrived: what an earlier attempt showed can go. */
  readonly restart: () => void
  readonly element: (a: A) => void
  /** The connection dropped (or the stream ended before `finished`); another attempt follows. */
  readonly dropped: () => void
  /** The server refused: no further attempt. */
  readonly refused: (message: string) => void
  /** True once the stream said all it had (a terminal's Ended); a stream ending before that is a drop. */
  readonly finished?: () => boolean
}

const isRefused = (e: unknown): boolean =>
  typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "Refused"

/** Starts following; the returned function stops (interrupts the stream, no further attempts). */
export const followStream = <A, E>(
  open: (client: Api) => Stream.Stream<A, E>,
  on: FollowHandlers<A>,
): (() => void) => {
  const attempt = (progress: { received: boolean }) =>
    Effect.gen(function* () {
      const client = yield* Api
      yield* open(client).pipe(
        Stream.runForEach((a) =>
          Effect.sync(() => {
            if (!progress.received) {
              progress.received = true
              on.restart()
            }
            on.element(a)
          }),
        ),
      )
    })
  const loop = Effect.gen(function* () {
    let failures = 0
    for (;;) {
      const progress = { received: false }
      const result = yield* Effect.either(attempt(progress))
      if (Either.isRight(result) && (on.finished?.() ?? false)) return
      if (Either.isLeft(result) && isRefused(result.left)) return on.refused(failureMessage(result.left))
      on.dropped()
      // An attempt that got through starts the backoff over: the next drop is a new outage.
      failures = progress.received ? 1 : failures + 1
      yield* Effect.sleep(Duration.millis(backoffMillis(failures)))
    }
  })
  const fiber = runtime.runFork(loop)
  return () => {
    runtime.runFork(Fiber.interrupt(fiber))
  }
}
