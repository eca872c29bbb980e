/**
 * A bare tRPC caller for the conformance suite's own set-up and checks. The action under test never
 * uses it: the suite reads the real server with it to compare against what the action reported.
 */
export interface RealDokploy {
  url: string
  apiKey: string
  query: <T = unknown>(procedure: string, input?: object) => Promise<T>
  mutate: <T = unknown>(procedure: string, input: object) => Promise<T>
}

export function realDokploy(url: string, apiKey: string): RealDokploy {
  const base = url.replace(/\/+$/, '')
  const call = async <T>(method: 'GET' | 'POST', procedure: string, input?: object): Promise<T> => {
    const query = method === 'GET' && input !== undefined ? `?input=${encodeURIComponent(JSON.stringify({ json: input }))}` : ''
    const response = await fetch(`${base}/api/trpc/${procedure}${query}`, {
      method,
      headers: { 'x-api-key': apiKey, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      body: method === 'POST' ? JSON.stringify({ json: input }) : undefined
    })
    const text = await response.text()
    // the suite's own failures name the procedure and status only: bodies can carry secrets
    if (!response.ok) throw new Error(`${procedure} answered ${response.status}`)
    return (JSON.parse(text) as { result: { data: { json: T } } }).result.data.json
  }
  return {
    url: base,
    apiKey,
    query: (procedure, input) => call('GET', procedure, input),
    mutate: (procedure, input) => call('POST', procedure, input)
  }
}

/** Polls `probe` until it returns a value, or fails after `ms`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, ms = 60_000, what = 'the condition'): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`Timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
