// web/vite.config.ts — builds the browser app into dist/web/ (served by `huskies serve` at /).
// No React plugin: Vite's esbuild compiles JSX with the automatic runtime.
import { defineConfig } from "vite"
import { fileURLToPath } from "node:url"

const here = fileURLToPath(new URL(".", import.meta.url))

export default defineConfig({
  root: here,
  base: "/",
  publicDir: false,
  logLevel: "warn",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
    // The initial bundle (React + the Effect RPC client) is ~180 KB gzipped; the budget is checked by the bench.
    chunkSizeWarningLimit: 1024,
    assetsDir: "assets",
  },
})
