// src/layers/goLine.ts — a child that starts its program only when told to: a shell that reads one line
// on its standard input (a terminal or a pipe), then becomes the program under the same pid; without a
// line (whoever was to send it died) it exits having started nothing. Lets Pty and Gates write a child's
// pid record before its program runs, so a server killed outright leaves it recorded or not started.

/** Waits for one line on standard input, then becomes the program (same pid); without a line, exits. */
export const waitForGo = 'IFS= read -r _ && exec "$0" "$@"'

/** The program and arguments that run `command` with `args` once the go line ("\n") arrives. */
export const gated = (
  command: string,
  args: ReadonlyArray<string>,
): readonly [string, ReadonlyArray<string>] => ["/bin/sh", ["-c", waitForGo, command, ...args]]
