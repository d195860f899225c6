// src/layers/runtimes/lines.ts — turns an agent's terminal output (chunks cut anywhere, `\r\n` line ends,
// escape sequences, very long lines) into clean lines. Used by every runtime adapter's stream parser.

/** One line as it arrived. `dropped` > 0: the line was longer than the limit and only a prefix is kept. */
export interface RawLine {
  readonly text: string
  readonly dropped: number
}

export interface LineSplitter {
  /** The lines this chunk completes, in order. */
  readonly push: (chunk: string) => ReadonlyArray<RawLine>
  /** The unterminated rest, once the stream has ended. */
  readonly end: () => ReadonlyArray<RawLine>
}

/** Far above any real line (a tool result with a whole file is a few MB), low enough to bound memory. */
export const defaultMaxLineLength = 64 * 1024 * 1024

// What is kept of a line over the limit, for the session log.
const keptOfOverlong = 2000

/**
 * Splits on `\n`, `\r\n` and a lone `\r` (a terminal redraw): JSON text never contains a raw CR or LF,
 * so none of them can fall inside a stream-json line. Empty lines are not reported. Linear in the
 * input however it is chunked: pieces of a long line are joined once, when the line ends.
 */
export const makeLineSplitter = (maxLineLength: number = defaultMaxLineLength): LineSplitter => {
  let parts: Array<string> = []
  let length = 0
  let dropped = 0

  const append = (piece: string): void => {
    if (piece === "") return
    if (dropped > 0) {
      dropped += piece.length
      return
    }
    if (length + piece.length <= maxLineLength) {
      parts.push(piece)
      length += piece.length
      return
    }
    const keep = Math.min(keptOfOverlong, maxLineLength)
    const kept = (parts.join("") + piece.slice(0, keep)).slice(0, keep)
    dropped = length + piece.length - kept.length
    parts = [kept]
    length = kept.length
  }

  const take = (): RawLine | undefined => {
    const line = length === 0 && dropped === 0 ? undefined : { text: parts.join(""), dropped }
    parts = []
    length = 0
    dropped = 0
    return line
  }

  return {
    push: (chunk) => {
      const out: Array<RawLine> = []
      const breaks = /[\r\n]/g
      let start = 0
      for (let m = breaks.exec(chunk); m !== null; m = breaks.exec(chunk)) {
        append(chunk.slice(start, m.index))
        const line = take()
        if (line !== undefined) out.push(line)
        start = m.index + 1
      }
      append(chunk.slice(start))
      return out
    },
    end: () => {
      const line = take()
      return line === undefined ? [] : [line]
    },
  }
}

// Terminal escape sequences: CSI (`ESC [ ... final`, e.g. `\x1b[?25l`), OSC (`ESC ] ... BEL|ST`, window
// titles), DCS/SOS/PM/APC strings, charset designations (`ESC ( B`) and two-byte sequences (`ESC 7`,
// `ESC c` reset); a lone ESC goes too. A literal ESC (or any C0 control but tab) is never part of a
// JSON line, which escapes them, so removing them cannot change the JSON an agent printed.
/* eslint-disable no-control-regex -- matching control characters is the point */
const escapeSequence =
  /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]+[0-~]|[0-~])?/g
const controlCharacter = /[\x00-\x08\x0b-\x1f]/
const controlCharacters = /[\x00-\x08\x0b-\x1f]/g
/* eslint-enable no-control-regex */

/** A line without terminal escape sequences, control characters and surrounding white space. */
export const cleanLine = (raw: string): string =>
  controlCharacter.test(raw)
    ? raw.replace(escapeSequence, "").replace(controlCharacters, "").trim()
    : raw.trim()

/** Parses a line that should be a JSON object; anything else is undefined. */
export const parseJsonObject = (line: string): Record<string, unknown> | undefined => {
  if (!line.startsWith("{")) return undefined
  try {
    const value: unknown = JSON.parse(line)
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    // Not JSON after all (a log line that happens to start with "{"): the caller keeps it as text.
    return undefined
  }
}
