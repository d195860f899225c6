// src/domain/chatTime.ts — the `when` of the chat command `timer n when`: an ISO time, a time of day
// (`09:30`, always UTC), a delay (`+30m`, `in 2h`), or `off`. Pure: resolving takes `now` as an argument.
// Used by the chat command parser (src/domain/chatCommand.ts) and its executor.
import { Either, Match, Schema } from "effect"

/** The last millisecond of the year 9999: later times have no four-digit ISO form. */
export const latestTime = 253_402_300_799_999
/** A delay longer than this is refused: a start a year away is a typo, not a plan. */
export const longestDelaySeconds = 366 * 24 * 3600

export const TimerAt = Schema.TaggedStruct("At", {
  at: Schema.Int.pipe(Schema.between(0, latestTime)),
})
export const TimerAfter = Schema.TaggedStruct("After", {
  seconds: Schema.Int.pipe(Schema.between(0, longestDelaySeconds)),
})
/** The next time the UTC clock shows hour:minute (today if still ahead, else tomorrow). */
export const TimerClock = Schema.TaggedStruct("Clock", {
  hour: Schema.Int.pipe(Schema.between(0, 23)),
  minute: Schema.Int.pipe(Schema.between(0, 59)),
})
/** Cancels the item's timers. */
export const TimerOff = Schema.TaggedStruct("Off", {})

export const TimerWhen = Schema.Union(TimerAt, TimerAfter, TimerClock, TimerOff)
export type TimerWhen = typeof TimerWhen.Type

/** What a `when` may look like, for usage lines and errors. */
export const whenForms =
  "an ISO time (2026-12-08T09:00Z; without a zone it is UTC), a UTC time of day (09:30), a delay (+30m, in 2h, in 1h30m), or off"

const offWords = new Set(["off", "cancel", "none", "clear"])

const unitSeconds: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(s|sec|secs|second|seconds)$/, 1],
  [/^(m|min|mins|minute|minutes)$/, 60],
  [/^(h|hr|hrs|hour|hours)$/, 3600],
  [/^(d|day|days)$/, 86_400],
]

const delayPart = /(\d{1,6})\s*([a-z]+)/y

/** `1h30m`, `2 hours 5 min`: seconds, or undefined when it is not a delay. */
const parseDelay = (text: string): number | undefined => {
  if (text === "now") return 0
  let seconds = 0
  let at = 0
  const compact = text.replace(/\s*(,|and)\s*/g, " ")
  while (at < compact.length) {
    while (compact[at] === " ") at++
    if (at >= compact.length) break
    delayPart.lastIndex = at
    const m = delayPart.exec(compact)
    if (m === null) return undefined
    const unit = unitSeconds.find(([pattern]) => pattern.test(m[2] as string))
    if (unit === undefined) return undefined
    seconds += Number(m[1]) * unit[1]
    at = delayPart.lastIndex
  }
  return at === 0 ? undefined : seconds
}

const isoTime =
  /^(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?\s*(z|utc|[+-]\d{2}:?\d{2})?$/

/** An ISO date or date-time, strictly (no 30 February); a time without a zone is UTC. */
const parseIso = (text: string): number | undefined => {
  const m = isoTime.exec(text)
  if (m === null) return undefined
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const millis = Number((m[7] ?? "0").padEnd(3, "0"))
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis)
  const back = new Date(local)
  const exact =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute &&
    back.getUTCSeconds() === second
  if (!exact) return undefined
  const zone = m[8] ?? "z"
  if (zone === "z" || zone === "utc") return local
  const sign = zone.startsWith("-") ? -1 : 1
  const digits = zone.slice(1).replace(":", "")
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))
  if (offsetMinutes > 18 * 60) return undefined
  return local - sign * offsetMinutes * 60_000
}

const clockTime = /^(?:at\s+)?(\d{1,2}):(\d{2})(?:\s*(?:z|utc))?$/

/** Reads a `when`; the error says what was expected. Never throws. */
export const parseWhen = (input: string): Either.Either<TimerWhen, string> => {
  const text = input.trim().toLowerCase().replace(/\s+/g, " ")
  if (text === "") return Either.left(`expected ${whenForms}`)
  if (offWords.has(text)) return Either.right(TimerOff.make({}))
  const clock = clockTime.exec(text)
  if (clock !== null) {
    const hour = Number(clock[1])
    const minute = Number(clock[2])
    return hour < 24 && minute < 60
      ? Either.right(TimerClock.make({ hour, minute }))
      : Either.left(`"${input.trim()}" is not a time of day: use 00:00 to 23:59 (UTC)`)
  }
  const relative = /^(?:\+\s*|in\s+)?(.*)$/.exec(text)?.[1] ?? text
  const delay = parseDelay(relative)
  if (delay !== undefined) {
    return delay <= longestDelaySeconds
      ? Either.right(TimerAfter.make({ seconds: delay }))
      : Either.left(`a delay can be at most ${longestDelaySeconds / 86_400} days`)
  }
  const iso = parseIso(text)
  if (iso !== undefined) {
    return iso >= 0 && iso <= latestTime
      ? Either.right(TimerAt.make({ at: iso }))
      : Either.left(`"${input.trim()}" is outside the years 1970 to 9999`)
  }
  return Either.left(`"${input.trim()}" is not a time: expected ${whenForms}`)
}

const pad = (n: number) => String(n).padStart(2, "0")

/** `1d2h30m`, `45s`: a delay in the form parseWhen reads back. */
export const describeDelay = (seconds: number): string => {
  const parts: Array<string> = []
  let rest = seconds
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    const count = Math.floor(rest / size)
    rest -= count * size
    if (count > 0) parts.push(`${count}${unit}`)
  }
  return parts.length === 0 ? "0s" : parts.join("")
}

/** The `when` as a person would type it; parseWhen reads it back to the same value. */
export const renderWhen = (when: TimerWhen): string =>
  Match.value(when).pipe(
    Match.tagsExhaustive({
      At: ({ at }) => new Date(at).toISOString(),
      After: ({ seconds }) => (seconds === 0 ? "now" : `+${describeDelay(seconds)}`),
      Clock: ({ hour, minute }) => `${pad(hour)}:${pad(minute)}`,
      Off: () => "off",
    }),
  )

const dayMillis = 86_400_000

/** The epoch milliseconds a `when` (other than off) means at `now`. */
export const resolveWhen = (when: Exclude<TimerWhen, { readonly _tag: "Off" }>, now: number): number =>
  Match.value(when).pipe(
    Match.tagsExhaustive({
      At: ({ at }) => at,
      After: ({ seconds }) => now + seconds * 1000,
      Clock: ({ hour, minute }) => {
        const today = Math.floor(now / dayMillis) * dayMillis + (hour * 60 + minute) * 60_000
        return today > now ? today : today + dayMillis
      },
    }),
  )
