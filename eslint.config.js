// eslint.config.js — lint rules for src/, test/ and bench/ (run by `npm run lint`).
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "bench/results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "require-yield": "off",
    },
  },
  {
    // Transports go through the command layer (src/actors/Pipeline.ts) and the read-only views
    // (src/actors/PipelineView.ts): the Store and the actors beneath them are not theirs to reach.
    files: ["src/transports/**/*.ts"],
    ignores: ["src/transports/cli/serve.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "(^|/)layers/(Store|Persistence|docModel)\\.js$",
              message: "transports read through PipelineView and change things through Pipeline",
            },
            {
              regex: "(^|/)actors/(Scheduler|MergeQueue|StoryActor|AgentActor|mergemaster)\\.js$",
              message: "transports reach the actors through Pipeline (commands) and ActivityView (status)",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
)
