// src/layers/runtimes/rateLimits.ts — reading rate-limit and overload errors out of the text agent CLIs
// print: which kind it is and when it resets. Used by the stream parsers of every runtime.

/** 429 for rate and usage limits, 529 for overload, from an error's text; undefined for anything else. */
export const limitStatusOf = (text: string): 429 | 529 | undefined =>
  /\b429\b|rate[ _-]?limit|too many requests|usage limit|quota|resource[ _-]?exhausted/i.test(text)
    ? 429
    : /\b529\b|overloaded/i.test(text)
      ? 529
      : undefined

const unitMs: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(?:ms|milliseconds?)$/i, 1],
  [/^(?:s|secs?|seconds?)$/i, 1000],
  [/^(?:m|mins?|minutes?)$/i, 60_000],
  [/^(?:h|hrs?|hours?)$/i, 3_600_000],
  [/^(?:d|days?)$/i, 86_400_000],
]

const durationPart =
  /(\d+(?:\.\d+)?)\s*(milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)\b/gi

/** "4 days 19 hours 1 minute", "37.5s", "2h 3m" → milliseconds; undefined when nothing parses. */
export const parseDuration = (text: string): number | undefined => {
  let total: number | undefined
  for (const [, amount, unit] of text.matchAll(durationPart)) {
    const ms = unitMs.find(([pattern]) => pattern.test(unit ?? ""))?.[1]
    if (ms !== undefined) total = (total ?? 0) + Number(amount) * ms
  }
  return total
}

const months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

// Codex 0.169's usage limit: "try again at 6:25 PM." (today or tomorrow) or "try again at Nov 27th,
// 2026 4:46 AM." when it is further off, in the local time zone of the CLI (and of huskies).
const clockTime =
  /try again at\s+(?:([a-z]{3})[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\s+)?(\d{1,2}):(\d{2})\s*([ap])\.?m\b/i

const resetAtClock = (text: string, now: number): number | undefined => {
  const m = clockTime.exec(text)
  if (m === null) return undefined
  const [, month, day, year, hour, minute, half] = m
  const hours = (Number(hour) % 12) + (half?.toLowerCase() === "p" ? 12 : 0)
  if (month !== undefined && day !== undefined && year !== undefined) {
    const index = months.indexOf(month.toLowerCase())
    return index < 0 ? undefined : new Date(Number(year), index, Number(day), hours, Number(minute)).getTime()
  }
  const today = new Date(now)
  today.setHours(hours, Number(minute), 0, 0)
  // A time of day already past means tomorrow's (the CLI prints the date only beyond a day).
  return today.getTime() > now ? today.getTime() : today.getTime() + 86_400_000
}

/**
 * When a limit resets, from what a CLI printed: "try again in 2 hours 5 minutes", "retry in 37.5s",
 * "retryDelay": "37s", "try again at 6:25 PM" (local time), or an epoch-seconds suffix ("... limit
 * reached|1767225600", Claude Code's older form). Undefined when the text says nothing usable.
 */
export const resetFromText = (text: string, now: number): number | undefined => {
  const epoch = /\|(\d{10})\b/.exec(text)
  if (epoch?.[1] !== undefined) return Number(epoch[1]) * 1000
  const clock = resetAtClock(text, now)
  if (clock !== undefined) return clock
  const after =
    /(?:try again|retry|retrying|resets?)\s+(?:in|after)\s+((?:\d+(?:\.\d+)?\s*[a-z]+[\s,]*(?:and\s+)?)+)/i.exec(
      text,
    )
  const delay = /"?retry_?delay"?\s*[:=]\s*"?(\d+(?:\.\d+)?\s*[a-z]*)"?/i.exec(text)
  const ms = parseDuration(after?.[1] ?? "") ?? parseDuration(delay?.[1] ?? "")
  return ms === undefined ? undefined : now + Math.round(ms)
}
