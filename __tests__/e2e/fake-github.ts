import http from 'node:http'

/**
 * A local stand-in for GitHub's REST deployments API, reached through GITHUB_API_URL as on GHES: it
 * records every request, the deployments created and their statuses, and can refuse (403), hang, or
 * hold a deployment that a job-level `environment:` created.
 */
export interface FakeDeployment {
  id: number
  sha: string
  ref: string
  environment: string
  description: string | null
  task: string
  payload: unknown
  auto_merge?: boolean
  required_contexts?: string[]
  statuses: FakeStatus[]
}

export interface FakeStatus {
  state: string
  description?: string
  environment_url?: string
  log_url?: string
  target_url?: string
  auto_inactive?: boolean
  at: number
}

export interface FakeRequest {
  method: string
  path: string
  authorization?: string
  body?: unknown
  at: number
}

/** A commit status, as `POST /repos/{owner}/{repo}/statuses/{sha}` records it. */
export interface FakeCommitStatus {
  sha: string
  state: string
  context: string
  description?: string
  target_url?: string
  at: number
}

/** slow: every answer comes `slowMs` late. */
export type Mode = 'ok' | 'forbidden' | 'hang' | 'slow'

export interface FakeGitHub {
  url: string
  requests: FakeRequest[]
  deployments: FakeDeployment[]
  commitStatuses: FakeCommitStatus[]
  setMode: (mode: Mode, slowMs?: number) => void
  /** A deployment not made by the action (say, by a job's `environment:`), with its statuses. */
  seed: (deployment: Omit<FakeDeployment, 'id'>) => FakeDeployment
  close: () => Promise<void>
}

const json = (res: http.ServerResponse, status: number, value: unknown): void => {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) })
  res.end(body)
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  let mode: Mode = 'ok'
  let slowMs = 0
  let nextId = 1000
  const requests: FakeRequest[] = []
  const deployments: FakeDeployment[] = []
  const commitStatuses: FakeCommitStatus[] = []
  const hanging = new Set<http.ServerResponse>()

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => (mode === 'slow' ? setTimeout(answer, slowMs) : answer()))
    const answer = (): void => {
      const url = new URL(req.url ?? '/', 'http://github.local')
      const text = Buffer.concat(chunks).toString('utf8')
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined
      requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, authorization: req.headers.authorization, body, at: Date.now() })
      if (mode === 'hang') {
        hanging.add(res)
        return
      }
      if (mode === 'forbidden') {
        return json(res, 403, { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' })
      }
      const list = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/.exec(url.pathname)
      const statuses = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/.exec(url.pathname)
      const commit = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(url.pathname)
      if (commit && req.method === 'POST') {
        const status: FakeCommitStatus = { ...(body as Omit<FakeCommitStatus, 'at' | 'sha'>), sha: commit[3], at: Date.now() }
        commitStatuses.push(status)
        return json(res, 201, { id: nextId++, ...status })
      }
      if (list && req.method === 'POST') {
        const deployment: FakeDeployment = {
          id: nextId++,
          sha: String(body?.ref),
          ref: String(body?.ref),
          environment: String(body?.environment ?? 'production'),
          description: (body?.description as string) ?? null,
          task: String(body?.task ?? 'deploy'),
          payload: body?.payload ?? {},
          auto_merge: body?.auto_merge as boolean | undefined,
          required_contexts: body?.required_contexts as string[] | undefined,
          statuses: []
        }
        deployments.push(deployment)
        return json(res, 201, { ...deployment, statuses: undefined })
      }
      if (list && req.method === 'GET') {
        const sha = url.searchParams.get('sha')
        const environment = url.searchParams.get('environment')
        const found = deployments.filter((d) => (!sha || d.sha === sha) && (!environment || d.environment === environment)).reverse()
        return json(res, 200, found.map((d) => ({ ...d, statuses: undefined })))
      }
      if (statuses) {
        const deployment = deployments.find((d) => d.id === Number(statuses[3]))
        if (!deployment) return json(res, 404, { message: 'Not Found' })
        if (req.method === 'POST') {
          const status = { ...(body as Omit<FakeStatus, 'at'>), at: Date.now() }
          deployment.statuses.push(status)
          return json(res, 201, { id: nextId++, ...status })
        }
        return json(res, 200, [...deployment.statuses].reverse())
      }
      json(res, 404, { message: 'Not Found' })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    deployments,
    commitStatuses,
    setMode: (next, ms = 0) => {
      mode = next
      slowMs = ms
    },
    seed: (deployment) => {
      const seeded = { ...deployment, id: nextId++ }
      deployments.push(seeded)
      return seeded
    },
    close: async () => {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
