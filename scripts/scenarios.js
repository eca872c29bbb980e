import { DB_KINDS, KINDS } from '../__tests__/emulator/state.js'

/**
 * What the emulator's builds do in `npm run demo -- scenario=…` and in the summary pictures. A
 * scenario applies to every service, so it holds whichever one the inputs name, by id or by name.
 * `inputs` are defaults the user's own arguments override.
 * @typedef {{about: string, build: Partial<import('../__tests__/emulator/queue.js').BuildBehaviour>, database: {durationMs?: number, fail?: string}, inputs?: Record<string, string>}} Scenario
 */

/** @type {Record<string, Scenario>} */
export const SCENARIOS = {
  success: {
    about: 'the build succeeds after 1.5 s',
    build: { durationMs: 1500 },
    database: { durationMs: 800 }
  },
  failure: {
    about: 'the build fails after 1.5 s: the step fails and shows the end of the build log',
    build: { durationMs: 1500, fail: 'RUN npm run build: exit code 2' },
    database: { durationMs: 800, fail: 'container exited: port 5432 already allocated' }
  },
  timeout: {
    about: 'the build never ends: the step stops waiting after wait-timeout (5 s here) and reports status timeout',
    build: { durationMs: 1500, hang: true },
    database: { durationMs: 10 * 60_000 },
    inputs: { 'wait-timeout': '5' }
  }
}

/**
 * Gives every service of the emulator the scenario's behaviour.
 * @param {import('../__tests__/emulator/server.js').Emulator} emulator
 * @param {Scenario} scenario
 */
export function applyScenario(emulator, scenario) {
  for (const [kind, rows] of Object.entries(emulator.state.services)) {
    for (const row of rows) {
      const id = row[KINDS[kind].idKey]
      if (DB_KINDS.includes(kind)) emulator.dbDeploy(id, scenario.database)
      else emulator.setBuild(id, scenario.build)
    }
  }
}

/** The scenario a name designates; throws with the names accepted. */
export function scenarioNamed(name) {
  const scenario = SCENARIOS[name]
  if (!scenario) throw new Error(`scenario: "${name}" is not one of ${Object.keys(SCENARIOS).join(', ')}.`)
  return scenario
}
