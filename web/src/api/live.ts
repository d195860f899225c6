// web/src/api/live.ts — keeps the board live: subscribes to Board with the last cursor, applies every
// message to the BoardStore, and after a dropped connection subscribes again from that cursor (the
// server replays what was missed, or sends a fresh snapshot), backing off between attempts. No polling.
import { Duration, Effect, Schedule, Stream } from "effect"
import { uiProtocolVersion } from "../../../src/protocol/uiRpcs.js"
import { applyMessage, type BoardStore } from "../state/board.js"
import { Api, runtime } from "./client.js"

const feed = (board: BoardStore) =>
  Effect.gen(function* () {
    const client = yield* Api
    const cursor = board.get().cursor
    yield* client
      .Board({ version: uiProtocolVersion, ...(cursor === undefined ? {} : { resume: cursor }) })
      .pipe(
        Stream.runForEach((message) =>
          Effect.sync(() => board.update((state) => applyMessage(state, message))),
        ),
      )
  })

/**
 * After a drop: reconnecting. On a server with a token the session may be gone (a restart, a logout
 * elsewhere, expiry): the socket cannot say so, /health can (401), and a reload shows the login page.
 */
const markReconnecting = (board: BoardStore) =>
  Effect.zipRight(
    Effect.sync(() =>
      board.update((s) => (s.connection === "reconnecting" ? s : { ...s, connection: "reconnecting" })),
    ),
    Effect.promise(() =>
      fetch("/health", { credentials: "same-origin", cache: "no-store" }).then(
        (response) => {
          if (response.status === 401) window.location.reload()
        },
        // The server is down: nothing to learn until it is back; the retry schedule goes on.
        () => undefined,
      ),
    ),
  )

const isVersionMismatch = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "VersionMismatch"

/** Runs for the life of the page. A version refusal stops it and marks the page stale. */
export const startLiveFeed = (board: BoardStore): void => {
  const retry = Schedule.exponential(Duration.millis(250), 2).pipe(
    Schedule.union(Schedule.spaced(Duration.seconds(3))),
  )
  runtime.runFork(
    feed(board).pipe(
      // The stream ends only when the server closes it (shutting down): treat it like a drop.
      Effect.zipRight(Effect.fail("ended" as const)),
      Effect.tapError((error) =>
        isVersionMismatch(error)
          ? Effect.sync(() => board.update((s) => ({ ...s, stale: true })))
          : markReconnecting(board),
      ),
      Effect.retry({
        schedule: retry,
        while: (error) => !isVersionMismatch(error),
      }),
      Effect.ignore,
    ),
  )
}
