/**
 * The default deployment title and description name the commit and the run, so a row in the
 * dashboard leads back to the workflow. Read from the runner's variables rather than
 * @actions/github's context, which would parse the whole event payload for two strings.
 */
const TITLE_LIMIT = 120
const DESCRIPTION_LIMIT = 500

export interface RunInfo {
  title: string
  description: string
}

export function defaultRunInfo(env: NodeJS.ProcessEnv = process.env): RunInfo {
  const sha = (env.GITHUB_SHA ?? '').slice(0, 7) || 'local'
  const workflow = env.GITHUB_WORKFLOW || 'dokploy-action'
  const attempt = Number(env.GITHUB_RUN_ATTEMPT ?? '1')
  const run = `#${env.GITHUB_RUN_NUMBER || '0'}${attempt > 1 ? `.${attempt}` : ''}`
  const server = env.GITHUB_SERVER_URL || 'https://github.com'
  const runUrl =
    env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}${attempt > 1 ? `/attempts/${attempt}` : ''}`
      : 'run outside GitHub Actions'
  return { title: clip(`${sha} · ${workflow} ${run}`, TITLE_LIMIT), description: clip(runUrl, DESCRIPTION_LIMIT) }
}

export const clip = (text: string, limit: number): string => (text.length <= limit ? text : `${text.slice(0, limit - 1)}…`)
export { TITLE_LIMIT, DESCRIPTION_LIMIT }
