// src/layers/ptyDrain.ts — every byte a process in a PTY printed before it exited reaches its reader. On
// Linux node-pty learns of the end from the terminal's read failing (EIO once nothing holds the terminal's
// other side), and a process that prints a burst and exits at once loses its last kilobytes on the way
// (9 runs in 10 of 2,000 quick lines here; a plain blocking read of the same terminal gets every byte, so
// the kernel keeps them). So the server holds the other side (the slave) open itself: no read fails while
// output is still on its way. Once the process has exited (a SIGCHLD, then a look at its state), its output
// is read until a turn of the event loop brings none, and only then is the slave let go, which lets
// node-pty see the end and report the exit. Used by Pty.
import { closeSync, constants, openSync } from "node:fs"
import { isRunning } from "./processTable.js"

/** How long the output must be quiet, after the exit, before the slave is let go. */
const quietMillis = 10
/** The most the exit is held back: node-pty itself gives up on the stream 200 ms after the exit. */
const capMillis = 150

export interface HeldTerminal {
  /** Called for each chunk of output, so the drain after the exit knows whether more came. */
  readonly sawOutput: () => void
  /** Lets the slave go now (idempotent): at the end of the drain, or when the process is killed. */
  readonly release: () => void
}

interface Held extends HeldTerminal {
  readonly pid: number
  chunks: number
  draining: boolean
}

const held = new Set<Held>()

const drain = (h: Held) => {
  h.draining = true
  const started = Date.now()
  let seen = h.chunks
  // The timer fires before the event loop polls for input; the immediate after it runs once the poll has
  // read whatever the terminal had. Only a poll that brought nothing ends the drain.
  const look = () =>
    setImmediate(() => {
      if (h.chunks === seen || Date.now() - started >= capMillis) return h.release()
      seen = h.chunks
      setTimeout(look, quietMillis)
    })
  setTimeout(look, quietMillis)
}

const onChildExit = () => {
  for (const h of held) if (!h.draining && !isRunning(h.pid)) drain(h)
}

/**
 * Holds the slave of the terminal `ptsName` whose session leader is `pid` until that process has exited
 * and its output has been read. Without a slave name (not a Unix PTY) nothing is held.
 */
export const holdTerminal = (pid: number, ptsName: string | undefined): HeldTerminal => {
  let slave: number | undefined
  try {
    // O_NOCTTY: never the server's controlling terminal. Node opens with O_CLOEXEC: no child inherits it.
    if (ptsName !== undefined) slave = openSync(ptsName, constants.O_RDWR | constants.O_NOCTTY)
  } catch {
    // The terminal is gone already (the process ended at once): nothing to hold, node-pty reports the end.
  }
  const h: Held = {
    pid,
    chunks: 0,
    draining: false,
    sawOutput: () => {
      h.chunks++
    },
    release: () => {
      if (slave !== undefined) {
        try {
          closeSync(slave)
        } catch {
          // Closed already: there is nothing left to let go.
        }
        slave = undefined
      }
      if (held.delete(h) && held.size === 0) process.off("SIGCHLD", onChildExit)
    },
  }
  if (slave === undefined) return h
  if (held.size === 0) process.on("SIGCHLD", onChildExit)
  held.add(h)
  // An exit before the listener was there sent its signal to nobody.
  if (!isRunning(pid)) drain(h)
  return h
}
