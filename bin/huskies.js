#!/usr/bin/env node
// bin/huskies.js — the `huskies` command: runs the compiled CLI in dist/ (built by `npm install`).
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const entry = new URL("../dist/src/main.js", import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  console.error("huskies is not built yet: run `npm install` (or `npm run build`) in the huskies checkout.")
  process.exit(1)
}
await import(entry.href)
