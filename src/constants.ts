/** Input and output names: a contract with users' workflows, kept in one place. */
export const Input = {
  url: 'url',
  apiKey: 'api-key',
  headers: 'headers',
  resource: 'resource',
  id: 'id',
  project: 'project',
  environment: 'environment',
  name: 'name',
  operation: 'operation',
  wait: 'wait',
  cancelQueued: 'cancel-queued',
  waitTimeout: 'wait-timeout',
  requestTimeout: 'request-timeout',
  pollInterval: 'poll-interval',
  logLines: 'log-lines',
  log: 'log',
  retries: 'retries',
  title: 'title',
  description: 'description',
  dockerImage: 'docker-image',
  registryUrl: 'registry-url',
  registryUsername: 'registry-username',
  registryPassword: 'registry-password',
  env: 'env',
  envStrategy: 'env-strategy',
  githubDeployment: 'github-deployment',
  githubToken: 'github-token',
  githubEnvironment: 'github-environment',
  commit: 'commit',
  pullRequest: 'pull-request',
  commitStatus: 'commit-status',
  verify: 'verify',
  verifyTimeout: 'verify-timeout',
  verifyUrl: 'verify-url',
  verifyText: 'verify-text',
  onFailure: 'on-failure'
} as const

export const Output = {
  status: 'status',
  deploymentId: 'deployment-id',
  resourceId: 'resource-id',
  duration: 'duration',
  logUrl: 'log-url',
  url: 'url',
  rolledBackTo: 'rolled-back-to',
  results: 'results'
} as const

export const USER_AGENT = 'dokploy-action/1'
