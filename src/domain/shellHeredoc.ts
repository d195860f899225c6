// src/domain/shellHeredoc.ts — here-documents (`<<EOF`, `<<'EOF'`, `<<-EOF`) as sh reads them: the
// delimiter word and the body lines up to it. A quoted delimiter's body is plain text; an unquoted one's is
// expanded, so one that would run commands ($(...), backticks) is refused. Pure; shellWords.ts uses it.

/** A here-document's body, and whether it is known as written (nothing in it is expanded). */
export interface HereDocument {
  readonly body: string
  readonly literal: boolean
}

/** A here-document whose body starts at the next line. */
export interface PendingHereDocument {
  readonly delimiter: string
  /** `<<'EOF'`, `<<"EOF"`, `<<\EOF`: the body is not expanded. */
  readonly quoted: boolean
  /** `<<-`: leading tabs are removed from the body and the end line. */
  readonly stripTabs: boolean
}

/** The delimiter as written after `<<` (raw, with its quotes), and the text it stands for. */
export const pendingHereDocument = (
  op: string,
  raw: string,
  text: string,
  fail: (reason: string) => never,
): PendingHereDocument => {
  // The delimiter is never expanded: a `$` or backtick in it is kept as text by sh, which few expect.
  if (raw === "" || /[$`]/.test(raw)) return fail(`a here-document delimiter huskies cannot read (${raw})`)
  return { delimiter: text, quoted: /['"\\]/.test(raw), stripTabs: op === "<<-" }
}

/** Reads the body of `doc` from `start` (the beginning of a line) to its end line; where reading goes on. */
export const readHereDocument = (
  src: string,
  start: number,
  doc: PendingHereDocument,
  fail: (reason: string) => never,
): { readonly document: HereDocument; readonly next: number } => {
  const lines: Array<string> = []
  let i = start
  for (;;) {
    if (i >= src.length) return fail(`a here-document without its end line ${doc.delimiter}`)
    const end = src.indexOf("\n", i)
    const raw = src.slice(i, end < 0 ? src.length : end)
    const line = doc.stripTabs ? raw.replace(/^\t+/, "") : raw
    i = end < 0 ? src.length : end + 1
    if (line === doc.delimiter) break
    lines.push(line)
  }
  const body = lines.length === 0 ? "" : `${lines.join("\n")}\n`
  if (doc.quoted) return { document: { body, literal: true }, next: i }
  // `\` at a line's end joins it to the next before expansion: `$\` + `(id)` is `$(id)`.
  if (/\$\(|`/.test(body.replace(/\\\n/g, "")))
    return fail(
      "a here-document that runs commands ($(...) or backticks in a body whose delimiter is not quoted)",
    )
  return { document: { body, literal: !/[$\\]/.test(body) }, next: i }
}
