// Response shapes that depend on the Dokploy version (API.md §5): rows, `.one` relations, project/environment trees.

import { KINDS, DB_KINDS, LIBSQL_SINCE } from './state.js'
import { atLeast } from './versions.js'

/** @typedef {import('./state.js').State} State */
/** @typedef {import('./state.js').Kind} Kind */
/** @typedef {import('./state.js').Row} Row */

const ALL_KINDS = /** @type {Kind[]} */ (Object.keys(KINDS))

/**
 * A service row as list endpoints return it. Before v0.25 there were no environments: rows carry projectId.
 * @param {State} state @param {Row} row @param {string} version
 * @returns {Row}
 */
export function serviceRow(state, row, version) {
  const out = { ...row }
  if (!atLeast(version, 'v0.25.0')) {
    out.projectId = state.environment(row.environmentId)?.projectId ?? null
    delete out.environmentId
  }
  return out
}

/**
 * `<router>.one`: the row plus its relations; the environment and project come with their `env`, and a
 * git-sourced service embeds its GitHub provider with tokens (API.md §6).
 * @param {State} state @param {Kind} kind @param {Row} row @param {string} version
 * @returns {Row}
 */
export function oneView(state, kind, row, version) {
  const out = serviceRow(state, row, version)
  const env = state.environment(row.environmentId)
  const project = env ? state.project(env.projectId) : undefined
  if (atLeast(version, 'v0.25.0')) out.environment = env ? { ...env, project: project ? { ...project } : null } : null
  else out.project = project ? { ...project } : null
  out.mounts = []
  out.server = null
  if (kind === 'application' || kind === 'compose') {
    out.domains = domainsOf(state, kind, row[KINDS[kind].idKey])
    out.github = row.githubId ? { ...state.githubProviders[row.githubId] } : null
    out.gitlab = null
    out.bitbucket = null
    out.gitea = null
  }
  if (kind === 'application') {
    Object.assign(out, { redirects: [], security: [], ports: [], registry: null, previewDeployments: [] })
  }
  if (DB_KINDS.includes(kind) && kind !== 'redis') out.backups = []
  return out
}

/**
 * The service's domain rows, as `domain.byApplicationId` / `domain.byComposeId` return them (with the owner's ids and names).
 * @param {State} state @param {'application'|'compose'} kind @param {string} id
 */
export function domainsOf(state, kind, id) {
  const idKey = KINDS[kind].idKey
  const owner = state.find(kind, id)
  return state.domains
    .filter((d) => d[idKey] === id)
    .map((d) => ({ ...d, [kind]: owner ? { [idKey]: id, appName: owner.appName, name: owner.name } : null }))
}

/** @param {State} state @param {string} environmentId @param {(kind: Kind, row: Row) => Row} shape @param {string} version */
function relations(state, environmentId, shape, version) {
  /** @type {Record<string, Row[]>} */
  const out = {}
  for (const kind of ALL_KINDS) {
    if (kind === 'libsql' && !atLeast(version, LIBSQL_SINCE)) continue
    out[KINDS[kind].relation] = state.services[kind].filter((r) => r.environmentId === environmentId).map((r) => shape(kind, r))
  }
  return out
}

/** @param {Kind} kind @param {Row} row @param {string[]} fields */
function pick(kind, row, fields) {
  /** @type {Row} */
  const out = { [KINDS[kind].idKey]: row[KINDS[kind].idKey] }
  for (const f of fields) out[f === 'status' ? KINDS[kind].statusKey : f] = row[f === 'status' ? KINDS[kind].statusKey : f]
  return out
}

/**
 * ≤v0.24 had no environments; the project holds its services directly. The emulator puts only the default
 * environment's services there (staging did not exist on such a server).
 * @param {State} state @param {Row} project @param {string} version
 */
function legacyProject(state, project, version) {
  const env = state.environments.find((e) => e.projectId === project.projectId && e.isDefault)
  return { ...project, ...(env ? relations(state, env.environmentId, (_k, r) => serviceRow(state, r, version), version) : {}) }
}

/**
 * `project.all` in the shape of `version`.
 * @param {State} state @param {string} version
 */
export function projectAll(state, version) {
  return state.projects.map((project) => {
    if (!atLeast(version, 'v0.25.0')) return legacyProject(state, project, version)
    const envs = state.environments.filter((e) => e.projectId === project.projectId)
    if (!atLeast(version, 'v0.29.0')) {
      // v0.25–v0.28: full rows, secrets included.
      return {
        ...project,
        environments: envs.map((e) => ({ ...e, ...relations(state, e.environmentId, (_k, r) => serviceRow(state, r, version), version) }))
      }
    }
    // ≥v0.29 trimmed: apps/compose with id, name, status; databases as ids only (owner/admin view).
    return {
      ...project,
      environments: envs.map((e) => ({
        name: e.name,
        environmentId: e.environmentId,
        isDefault: e.isDefault,
        ...relations(
          state,
          e.environmentId,
          (kind, r) => (kind === 'application' || kind === 'compose' ? pick(kind, r, ['name', 'status']) : pick(kind, r, [])),
          version
        )
      })),
      projectTags: []
    }
  })
}

/**
 * `project.one`: full environment rows (with `env`); from v0.29.14 services trimmed to name, appName, status, serverId.
 * @param {State} state @param {Row} project @param {string} version
 */
export function projectOne(state, project, version) {
  if (!atLeast(version, 'v0.25.0')) return legacyProject(state, project, version)
  const trimmed = atLeast(version, 'v0.29.14')
  return {
    ...project,
    environments: state.environments
      .filter((e) => e.projectId === project.projectId)
      .map((e) => ({
        ...e,
        ...relations(
          state,
          e.environmentId,
          (kind, r) => (trimmed ? pick(kind, r, ['name', 'appName', 'status', 'serverId']) : serviceRow(state, r, version)),
          version
        )
      }))
  }
}

/**
 * `environment.one`: the environment and its project (both with `env`); services with id, name, status, no appName.
 * @param {State} state @param {Row} env @param {string} version
 */
export function environmentOne(state, env, version) {
  const project = state.project(env.projectId)
  return {
    ...env,
    project: project ? { ...project } : null,
    ...relations(state, env.environmentId, (kind, r) => pick(kind, r, ['name', 'status']), version)
  }
}

/**
 * `environment.byProjectId`: the project's environments with full service rows (appName and secrets included).
 * @param {State} state @param {string} projectId @param {string} version
 */
export function environmentsByProject(state, projectId, version) {
  return state.environments
    .filter((e) => e.projectId === projectId)
    .map((e) => ({ ...e, ...relations(state, e.environmentId, (_k, r) => serviceRow(state, r, version), version) }))
}

/**
 * A deployment row as `deployment.all` returns it; before v0.22 there were no startedAt/finishedAt.
 * @param {Row} row @param {string} version
 */
export function deploymentView(row, version) {
  const out = { ...row }
  if (!atLeast(version, 'v0.22.0')) {
    delete out.startedAt
    delete out.finishedAt
  }
  return out
}
