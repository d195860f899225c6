// vitest.config.ts — the test runner's settings: tests live in test/, mirror src/.
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "web/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    globalSetup: ["test/support/globalSetup.ts"],
    reporters: ["default"],
  },
})
