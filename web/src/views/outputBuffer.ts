// web/src/views/outputBuffer.ts — how the live terminal keeps pace with the screen: output is buffered
// and written once per animation frame (and only after the terminal parsed the last write); the
// pending text is capped, the oldest dropped with a visible marker. Pure; used by Terminal.tsx.

/** Shown where pending output was dropped because the screen could not keep up. */
export const skippedMarker = "\r\n\x1b[33m[… output skipped …]\x1b[0m\r\n"

/** Pending output, at most `maxChars` of it: past that the oldest goes and the marker says so. */
export class PendingOutput {
  private chunks: Array<string> = []
  private size = 0
  private skipped = false

  constructor(readonly maxChars: number) {}

  get pending(): number {
    return this.size
  }

  push(text: string): void {
    if (text === "") return
    this.chunks.push(text)
    this.size += text.length
    while (this.size > this.maxChars && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0
      this.skipped = true
    }
    const only = this.chunks[0]
    if (this.size > this.maxChars && only !== undefined) {
      // One chunk bigger than the cap: keep its tail, from a line start where there is one, so the
      // cut does not land inside an escape sequence of the line shown first.
      const tail = only.slice(only.length - this.maxChars)
      const newline = tail.indexOf("\n")
      const kept = newline >= 0 && newline < tail.length - 1 ? tail.slice(newline + 1) : tail
      this.chunks = [kept]
      this.size = kept.length
      this.skipped = true
    }
  }

  /** Everything pending (after the marker, if output was dropped), leaving nothing. */
  take(): string {
    const text = (this.skipped ? skippedMarker : "") + this.chunks.join("")
    this.clear()
    return text
  }

  clear(): void {
    this.chunks = []
    this.size = 0
    this.skipped = false
  }
}

/** Runs `run` at the next frame; the returned function cancels it. */
export type FrameScheduler = (run: () => void) => () => void

/** Writes text and calls `done` once it has been taken in (xterm's write callback). */
export type Sink = (text: string, done: () => void) => void

export const animationFrames: FrameScheduler = (run) => {
  const handle = requestAnimationFrame(run)
  return () => cancelAnimationFrame(handle)
}

/**
 * Batches pushed output into one write per frame. While a write is being parsed nothing more is
 * written; what arrives meanwhile waits (capped) for the next frame after it.
 */
export class FrameWriter {
  private readonly buffer: PendingOutput
  private cancel: (() => void) | undefined
  private writing = false
  /** Bumped by `clear`: the completion of a write from before it no longer counts. */
  private generation = 0

  constructor(
    private readonly sink: Sink,
    private readonly schedule: FrameScheduler,
    maxPendingChars = 512 * 1024,
  ) {
    this.buffer = new PendingOutput(maxPendingChars)
  }

  get pending(): number {
    return this.buffer.pending
  }

  push(text: string): void {
    this.buffer.push(text)
    this.request()
  }

  /** Drops what is pending and forgets a write in progress (the terminal is being reset). */
  clear(): void {
    this.buffer.clear()
    this.cancel?.()
    this.cancel = undefined
    this.writing = false
    this.generation += 1
  }

  dispose(): void {
    this.clear()
  }

  private request(): void {
    if (this.cancel !== undefined || this.writing || this.buffer.pending === 0) return
    this.cancel = this.schedule(() => this.flush())
  }

  private flush(): void {
    this.cancel = undefined
    const text = this.buffer.take()
    if (text === "") return
    this.writing = true
    const generation = this.generation
    this.sink(text, () => {
      if (generation !== this.generation) return
      this.writing = false
      this.request()
    })
  }
}
