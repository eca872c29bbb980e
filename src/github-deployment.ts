import type { getOctokit } from '@actions/github'
import type { Outcome } from './outcome.js'
import { inline, type Log } from './logger.js'
import { redact } from './secrets.js'
import { clip } from './title.js'

/**
 * GitHub deployments that show a deploy's real outcome (github-deployment: true). One per target:
 * created when Dokploy accepts the deploy, `in_progress` when its build starts, then `success`,
 * `failure` or `error`. Nothing here may fail or hold up a deploy: every call runs in its own queue
 * beside the deploy, the first failure is one warning and ends the recording, and the step waits for
 * the queue only briefly at its end.
 */
type Octokit = ReturnType<typeof getOctokit>

export interface GitHubRun {
  token: string
  /** owner/name */
  repository: string
  sha: string
  runId?: string
  /** The deployment's description: the deploy's title (commit and run). */
  title: string
  /** How long each GitHub request may take. */
  requestTimeoutMs: number
  /** Record GitHub deployments (github-deployment: true). */
  deployments: boolean
  /** Post commit statuses (commit-status: true). */
  statuses: boolean
}

export interface StatusLinks {
  /** The service's public URL (the url output). */
  environmentUrl?: string
  /** The Dokploy deployment link (the log-url output). */
  logUrl?: string
}

export interface TrackedTarget {
  label: string
  resource: string
  /** The GitHub environment: known once the target is placed. */
  environment: () => Promise<string>
  links: () => Promise<StatusLinks>
  /** The commit status's context: `dokploy/<name>`, with the environment when two targets share a name. */
  context: string
}

type State = 'in_progress' | 'success' | 'failure' | 'error'

/** Our deployments carry this key in their payload, so they are never taken for the job's own. */
const PAYLOAD_KEY = 'dokploy-action'
const DESCRIPTION_LIMIT = 140

/** The GitHub state of a Dokploy outcome: a build that failed is a failure, an outcome not reached is an error. */
export function stateOf(outcome: Outcome): Exclude<State, 'in_progress'> {
  if (outcome.status === 'done') return 'success'
  if (outcome.status === 'error' || outcome.status === 'cancelled') return 'failure'
  return 'error'
}

function describe(outcome: Outcome): string {
  const text =
    outcome.status === 'done'
      ? `Dokploy ${outcome.operation} done`
      : outcome.status === 'timeout'
        ? 'Still running when the step stopped waiting'
        : `Dokploy ${outcome.operation} ended ${outcome.status}`
  return clip(text, DESCRIPTION_LIMIT)
}

/** What to tell the user about a failed GitHub call; the token is never part of it. */
function explain(error: unknown, permission: string): string {
  const status = (error as { status?: unknown })?.status
  const message = redact(inline(error instanceof Error ? error.message : String(error))).slice(0, 200)
  if (status === 403 || status === 401) return `GitHub refused it (${status}: ${message}): give the token ${permission} (permissions: ${permission}), or check its rate limit`
  if (status === 404) return `GitHub answered 404 (${message}): this repository or server has no deployments API for the token`
  if (status === 429) return `GitHub rate-limited it (429)`
  return message
}

export class GitHubDeployments {
  private queue: Promise<void> = Promise.resolve()
  private stopped = false
  private octokit?: Promise<Octokit>
  /** Environments whose job-level `environment:` already records this run: nothing is created there. */
  private readonly jobOwned = new Map<string, Promise<boolean>>()
  /** Environments where one of this step's deployments succeeded: the next success leaves it active. */
  private readonly succeeded = new Set<string>()
  private readonly abort = new AbortController()

  constructor(
    private readonly run: GitHubRun,
    private readonly log: Log
  ) {
    // loaded now, before anything is sent: evaluating GitHub's client takes a moment of the event loop,
    // which must not fall between the deploy and the step's first look at the queue (a fast build
    // could end unseen). A failure to load is said when the first call needs it.
    this.client().catch(() => undefined)
  }

  /** A target's GitHub deployment, told of the deploy's progress by the layer that runs it. */
  track(target: TrackedTarget): { accepted: () => void; building: () => void; ended: (outcome: Outcome) => void } {
    let id: number | undefined
    let environment: string | undefined
    const { deployments, statuses } = this.run
    // the commit shows the check as pending from the step's start: branch protection waits for its end
    if (statuses) this.enqueue(async (octokit) => this.commitStatus(octokit, target, 'pending', 'Dokploy: following the deployment'))
    return {
      accepted: () => {
        if (!deployments) return
        this.enqueue(async (octokit) => {
          environment = await target.environment()
          if (await this.ownedByJob(octokit, environment)) return
          id = await this.create(octokit, environment, target)
        })
      },
      building: () => {
        if (!deployments) return
        this.enqueue(async (octokit) => {
          if (id !== undefined) await this.status(octokit, id, 'in_progress', 'Dokploy is building it', await target.links())
        })
      },
      ended: (outcome) => {
        if (statuses) this.enqueue(async (octokit) => this.commitStatus(octokit, target, stateOf(outcome), describe(outcome)))
        if (!deployments) return
        this.enqueue(async (octokit) => {
          if (id === undefined || environment === undefined) return
          const state = stateOf(outcome)
          // the first success of this step makes the earlier deployments inactive, as GitHub does; its siblings stay
          const autoInactive = state === 'success' && !this.succeeded.has(environment)
          if (state === 'success') this.succeeded.add(environment)
          await this.status(octokit, id, state, describe(outcome), await target.links(), autoInactive)
        })
      }
    }
  }

  /** Waits for the calls still queued, at most `ms`; what is left then is abandoned (and said once). */
  async settle(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)))
    const end = await Promise.race([this.queue.then(() => 'settled' as const), late])
    clearTimeout(timer)
    if (end === 'late') {
      this.abort.abort(new Error('the step ended'))
      this.warnOnce(`GitHub did not answer within ${Math.round(ms / 1000)} s at the end of the step: the GitHub deployment may show an earlier status.`)
    }
  }

  private enqueue(task: (octokit: Octokit) => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.stopped) return
      try {
        await task(await this.client())
      } catch (error) {
        const { deployments, statuses } = this.run
        const what = deployments ? (statuses ? 'The GitHub deployment and commit status' : 'The GitHub deployment') : 'The commit status'
        const permission = [deployments ? 'deployments: write' : '', statuses ? 'statuses: write' : ''].filter(Boolean).join(', ')
        this.warnOnce(`${what} could not be recorded: ${explain(error, permission)}. The Dokploy deploy is not affected.`)
      }
    })
  }

  private warnOnce(message: string): void {
    if (this.stopped) return
    this.stopped = true
    this.log.warning(message, this.run.deployments ? 'GitHub deployment' : 'GitHub commit status')
  }

  /** @actions/github is loaded only here, so a step without github-deployment never pays for it. */
  private client(): Promise<Octokit> {
    this.octokit ??= import('@actions/github').then(({ getOctokit }) => getOctokit(this.run.token))
    return this.octokit
  }

  private get repo(): { owner: string; repo: string } {
    const [owner, repo] = this.run.repository.split('/')
    return { owner, repo }
  }

  private request(): { signal: AbortSignal } {
    return { signal: AbortSignal.any([AbortSignal.timeout(this.run.requestTimeoutMs), this.abort.signal]) }
  }

  /**
   * A job with `environment:` gets a GitHub deployment from Actions itself; a second one for the same
   * commit and environment would be a duplicate. Actions' deployment links this run in its statuses.
   */
  private ownedByJob(octokit: Octokit, environment: string): Promise<boolean> {
    let owned = this.jobOwned.get(environment)
    if (!owned) {
      owned = this.findJobDeployment(octokit, environment)
      this.jobOwned.set(environment, owned)
      // said once per environment; a failure is the caller's to report (and must not go unhandled here)
      owned.then(
        (yes) => {
          if (yes) this.log.info(`The job's environment "${inline(environment)}" already records this run as a GitHub deployment: not creating another (github-deployment).`)
        },
        () => undefined
      )
    }
    return owned
  }

  private async findJobDeployment(octokit: Octokit, environment: string): Promise<boolean> {
    const { runId, sha } = this.run
    if (!runId) return false
    const { data: deployments } = await octokit.rest.repos.listDeployments({ ...this.repo, sha, environment, per_page: 10, request: this.request() })
    const others = deployments.filter((d) => !(d.payload && typeof d.payload === 'object' && PAYLOAD_KEY in d.payload)).slice(0, 3)
    const thisRun = new RegExp(`/actions/runs/${runId}(/|$)`)
    for (const deployment of others) {
      const { data: statuses } = await octokit.rest.repos.listDeploymentStatuses({ ...this.repo, deployment_id: deployment.id, per_page: 5, request: this.request() })
      if (statuses.some((s) => thisRun.test(s.log_url ?? '') || thisRun.test(s.target_url ?? ''))) return true
    }
    return false
  }

  private async create(octokit: Octokit, environment: string, target: TrackedTarget): Promise<number> {
    const { data } = await octokit.rest.repos.createDeployment({
      ...this.repo,
      ref: this.run.sha,
      environment,
      description: clip(`${target.label}: ${this.run.title}`, DESCRIPTION_LIMIT),
      // the commit is being deployed as it is: no merge of the default branch, no wait for its checks
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
      task: 'deploy',
      payload: { [PAYLOAD_KEY]: { service: target.label, resource: target.resource } },
      request: this.request()
    })
    if (!('id' in data)) throw new Error(`GitHub did not create the deployment (${inline(String(data.message ?? 'no reason given'))})`)
    return data.id
  }

  /** A commit status for the step's commit, linking the Dokploy deployment (the log-url). */
  private async commitStatus(octokit: Octokit, target: TrackedTarget, state: 'pending' | Exclude<State, 'in_progress'>, description: string): Promise<void> {
    await octokit.rest.repos.createCommitStatus({
      ...this.repo,
      sha: this.run.sha,
      state,
      context: target.context,
      description: clip(description, DESCRIPTION_LIMIT),
      target_url: (await target.links()).logUrl ?? '',
      request: this.request()
    })
  }

  private async status(octokit: Octokit, id: number, state: State, description: string, links: StatusLinks, autoInactive = false): Promise<void> {
    await octokit.rest.repos.createDeploymentStatus({
      ...this.repo,
      deployment_id: id,
      state,
      description,
      environment_url: links.environmentUrl ?? '',
      log_url: links.logUrl ?? '',
      auto_inactive: autoInactive,
      request: this.request()
    })
  }
}
