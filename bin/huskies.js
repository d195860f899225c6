#!/usr/bin/env node
// bin/huskies.js — the `huskies` command: runs the CLI built into dist/ (by `npm install`): the
// one-file bundle when there is one, else the compiled modules.
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const bundle = new URL("../dist/huskies.js", import.meta.url)
const modules = new URL("../dist/src/main.js", import.meta.url)
const entry = existsSync(fileURLToPath(bundle)) ? bundle : modules
if (!existsSync(fileURLToPath(entry))) {
  console.error("huskies is not built yet: run `npm install` (or `npm run build`) in the huskies checkout.")
  process.exit(1)
}
await import(entry.href)
