// test/support/store.ts — a real Store on a real SQLite file in a temp dir, for tests.
import { type StoreOptions, StoreOnDisk } from "../../src/layers/Store.js"

export const storeLayer = (dbPath: string, options: StoreOptions = {}) =>
  StoreOnDisk(dbPath, "normal", options)
