// web/test/outputBuffer.test.ts — the live terminal's pacing: one write per frame, nothing written while
// the terminal parses, pending output capped with a visible marker where the oldest was dropped.
import { describe, expect, it } from "vitest"
import { FrameWriter, PendingOutput, skippedMarker } from "../src/views/outputBuffer.js"

/** A frame clock the test advances by hand. */
const frames = () => {
  const queued: Array<() => void> = []
  const schedule = (run: () => void) => {
    queued.push(run)
    return () => {
      const i = queued.indexOf(run)
      if (i >= 0) queued.splice(i, 1)
    }
  }
  const tick = () => {
    for (const run of queued.splice(0)) run()
  }
  return {
    schedule,
    tick,
    get waiting() {
      return queued.length
    },
  }
}

/** A terminal that records writes and finishes parsing when told. */
const sink = () => {
  const writes: Array<string> = []
  const dones: Array<() => void> = []
  let parsedUpTo = 0
  return {
    writes,
    dones,
    write: (text: string, done: () => void) => {
      writes.push(text)
      dones.push(done)
    },
    parsed: () => {
      for (const done of dones.slice(parsedUpTo)) done()
      parsedUpTo = dones.length
    },
  }
}

describe("PendingOutput", () => {
  it("gives back what was pushed, in order, once", () => {
    const out = new PendingOutput(100)
    out.push("a")
    out.push("")
    out.push("bc")
    expect(out.pending).toBe(3)
    expect(out.take()).toBe("abc")
    expect(out.take()).toBe("")
  })

  it("drops the oldest chunks past the cap and marks where", () => {
    const out = new PendingOutput(11)
    for (const chunk of ["one\n", "two\n", "three\n", "four\n"]) out.push(chunk)
    expect(out.pending).toBe(11)
    expect(out.take()).toBe(`${skippedMarker}three\nfour\n`)
    // The marker is for the drop that happened, not for the next batch.
    out.push("five\n")
    expect(out.take()).toBe("five\n")
  })

  it("keeps the tail of one chunk bigger than the cap, from a line start", () => {
    const out = new PendingOutput(12)
    out.push("line one\nline two\nline three\n")
    expect(out.pending).toBeLessThanOrEqual(12)
    const text = out.take()
    expect(text.startsWith(skippedMarker)).toBe(true)
    expect(text.slice(skippedMarker.length)).toBe("line three\n")
  })

  it("never holds more than the cap however much arrives", () => {
    const out = new PendingOutput(1_000)
    for (let i = 0; i < 10_000; i++) out.push(`output line ${i}\r\n`)
    expect(out.pending).toBeLessThanOrEqual(1_000)
    expect(out.take()).toContain("[… output skipped …]")
  })
})

describe("FrameWriter", () => {
  it("writes everything pushed within a frame as one write", () => {
    const clock = frames()
    const term = sink()
    const writer = new FrameWriter(term.write, clock.schedule)
    writer.push("a")
    writer.push("b")
    writer.push("c")
    expect(term.writes).toEqual([])
    expect(clock.waiting).toBe(1)
    clock.tick()
    expect(term.writes).toEqual(["abc"])
  })

  it("waits for the terminal to parse a write before the next one", () => {
    const clock = frames()
    const term = sink()
    const writer = new FrameWriter(term.write, clock.schedule)
    writer.push("first")
    clock.tick()
    writer.push("second")
    writer.push("third")
    clock.tick()
    expect(term.writes).toEqual(["first"])
    expect(clock.waiting).toBe(0)
    term.parsed()
    expect(clock.waiting).toBe(1)
    clock.tick()
    expect(term.writes).toEqual(["first", "secondthird"])
  })

  it("caps what waits while the terminal is slow, with the marker", () => {
    const clock = frames()
    const term = sink()
    const writer = new FrameWriter(term.write, clock.schedule, 50)
    writer.push("start\n")
    clock.tick()
    for (let i = 0; i < 1_000; i++) writer.push(`line ${i}\n`)
    expect(writer.pending).toBeLessThanOrEqual(50)
    term.parsed()
    clock.tick()
    expect(term.writes[1]).toContain("[… output skipped …]")
    expect(term.writes[1]).toContain("line 999\n")
    expect(term.writes[1]).not.toContain("line 0\n")
  })

  it("clear drops what waits and ignores the end of a write from before", () => {
    const clock = frames()
    const term = sink()
    const writer = new FrameWriter(term.write, clock.schedule)
    writer.push("old")
    clock.tick()
    writer.push("old too")
    writer.clear()
    expect(clock.waiting).toBe(0)
    writer.push("new")
    clock.tick()
    expect(term.writes).toEqual(["old", "new"])
    // The first write's completion arrives late: it must not let a third write overlap the second.
    term.dones[0]?.()
    writer.push("newer")
    clock.tick()
    expect(term.writes).toEqual(["old", "new"])
    term.dones[1]?.()
    clock.tick()
    expect(term.writes).toEqual(["old", "new", "newer"])
  })
})
