// test/domain/agentEnv.test.ts — an agent's env table in agents.toml: names and values checked when the
// file is decoded, `${NAME}` filled from the server's environment, and an unset one named with its agent.
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { fillAgentsEnv, fillEnvValue } from "../../src/domain/agentEnv.js"
import { type ConfigError, decodeAgentsToml } from "../../src/domain/Config.js"

const file = "/repo/.huskies/agents.toml"
const agent = (extra: string) => `[[agent]]\nname = "coder-1"\nstage = "coder"\n${extra}\n`

const decoded = (toml: string) =>
  Either.getOrThrowWith(decodeAgentsToml(toml, file), (e) => new Error(e.message)).agents

const refused = (toml: string): ConfigError =>
  Either.match(decodeAgentsToml(toml, file), {
    onLeft: (e) => e,
    onRight: () => {
      throw new Error(`expected ${JSON.stringify(toml)} to be refused`)
    },
  })

describe("agents.toml env", () => {
  it("decodes an inline table and an [agent.env] table; no table means no env", () => {
    expect(decoded(agent('env = { RUST_LOG = "debug", API_KEY = "${MY_KEY}" }'))[0].env).toEqual({
      RUST_LOG: "debug",
      API_KEY: "${MY_KEY}",
    })
    expect(decoded(agent('[agent.env]\nlower_case_ok = "1"\n_X = ""'))[0].env).toEqual({
      lower_case_ok: "1",
      _X: "",
    })
    expect(decoded(agent(""))[0].env).toBeUndefined()
  })

  it.each([
    ['env = { "1BAD" = "x" }', "agent[0].env.1BAD", '"1BAD" is not an environment variable name'],
    ['env = { "A-B" = "x" }', "agent[0].env.A-B", 'use letters, digits and "_", not starting with a digit'],
    ['env = { "" = "x" }', 'agent[0].env.""', '"" is not an environment variable name'],
    ['env = { "A=B" = "x" }', 'agent[0].env."A=B"', '"A=B" is not an environment variable name'],
    [
      'env = { HUSKIES_STORY_ID = "x" }',
      "agent[0].env.HUSKIES_STORY_ID",
      "names starting with HUSKIES_ are set by huskies for every agent",
    ],
    [
      "env = { PORT = 8080 }",
      "agent[0].env.PORT",
      'expected a string (quote numbers: PORT = "8080"), got 8080',
    ],
    ['env = { A = "${" }', "agent[0].env.A", 'has a "${" without its closing "}"'],
    ['env = { A = "${1X}" }', "agent[0].env.A", "refers to ${1X}, which is not a variable name"],
    ['env = { A = "${}" }', "agent[0].env.A", "refers to ${}, which is not a variable name"],
    ['env = { A = "a\\u0000b" }', "agent[0].env.A", "contains a NUL byte"],
    ['env = "RUST_LOG=debug"', "agent[0].env", 'expected an env table, e.g. env = { RUST_LOG = "debug" }'],
  ])("refuses %s at %s", (line, keyPath, message) => {
    const error = refused(agent(line))
    expect(error.issues).toContainEqual({ keyPath, message: expect.stringContaining(message) })
    expect(error.message).toContain(`${file}: ${keyPath}: `)
  })

  it("fills ${NAME} from the server's environment; $${ is a literal ${, any other $ is itself", () => {
    const env = { KEY: "sk-123", EMPTY: "" }
    expect(fillEnvValue("${KEY}", env)).toEqual(Either.right("sk-123"))
    expect(fillEnvValue("Bearer ${KEY}!${EMPTY}", env)).toEqual(Either.right("Bearer sk-123!"))
    expect(fillEnvValue("$${KEY} costs $5 $$", env)).toEqual(Either.right("${KEY} costs $5 $$"))
    expect(fillEnvValue("${NOPE}", env)).toEqual(Either.left({ unset: "NOPE" }))
  })

  it("an unset variable stops the load, naming the agent, the key and the variable", () => {
    const agents = decoded(
      `${agent('env = { A = "${SET}", B = "${UNSET_ONE}" }')}\n[[agent]]\nname = "qa"\nstage = "qa"\nenv = { C = "x\${UNSET_TWO}" }\n`,
    )
    const error = Either.getLeft(fillAgentsEnv(agents, { SET: "yes" }, file))
    expect(error._tag).toBe("Some")
    if (error._tag !== "Some") return
    expect(error.value.file).toBe(file)
    expect(error.value.issues).toEqual([
      {
        keyPath: "agent[0].env.B",
        message:
          'agent "coder-1": B refers to ${UNSET_ONE}, which is not set in the environment huskies was started with: set UNSET_ONE before starting huskies, or change the value',
      },
      { keyPath: "agent[1].env.C", message: expect.stringContaining('agent "qa": C refers to ${UNSET_TWO}') },
    ])
    const filled = Either.getOrThrow(
      fillAgentsEnv(agents, { SET: "yes", UNSET_ONE: "1", UNSET_TWO: "2" }, file),
    )
    expect(filled.map((a) => a.env)).toEqual([{ A: "yes", B: "1" }, { C: "x2" }])
  })
})
