/**
 * Everything a step does once its inputs are valid, in a chunk of its own (main.ts imports it then): a step
 * that fails on its inputs, the most common failure of a new workflow, never loads or compiles it.
 */
export { DokployClient } from './dokploy/client.js'
export { createTransport } from './dokploy/transport.js'
export { resolveTargets, runTargets } from './targets.js'
export { GitHubDeployments } from './github-deployment.js'
