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

/**
 * When a limit resets, from what a CLI printed: "try again in 2 hours 5 minutes", "retry in 37.5s",
 * "retryDelay": "37s", or an epoch-seconds suffix ("... limit reached|1767225600", Claude Code's
 * older form). Undefined when the text says nothing usable.
 */
export const resetFromText = (text: string, now: number): number | undefined => {
  const epoch = /\|(\d{10})\b/.exec(text)
  if (epoch?.[1] !== undefined) return Number(epoch[1]) * 1000
  const after =
    /(?:try again|retry|retrying|resets?)\s+(?:in|after)\s+((?:\d+(?:\.\d+)?\s*[a-z]+[\s,]*(?:and\s+)?)+)/i.exec(
      text,
    )
  const delay = /"?retry_?delay"?\s*[:=]\s*"?(\d+(?:\.\d+)?\s*[a-z]*)"?/i.exec(text)
  const ms = parseDuration(after?.[1] ?? "") ?? parseDuration(delay?.[1] ?? "")
  return ms === undefined ? undefined : now + Math.round(ms)
}
