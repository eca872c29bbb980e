/**
 * Dokploy's tRPC envelopes: `{"result":{"data":{"json": …}}}` for a value, `{"error":{"json": …}}` for an
 * error (or a REST-style `{message, code}` from older routes and proxies). Parsing only: no wording here.
 */

export interface TrpcError {
  message?: string
  code?: string
  fieldErrors?: Record<string, unknown>
}

export type Envelope =
  /** Not JSON (an HTML page, an empty body, a cut answer). */
  | { kind: 'not-json' }
  | { kind: 'error'; error: TrpcError }
  | { kind: 'value'; value: unknown }
  /** JSON, but neither a value nor an error: not a tRPC reply. */
  | { kind: 'other' }

export function readEnvelope(text: string): Envelope {
  if (text.trim() === '') return { kind: 'not-json' }
  let envelope: unknown
  try {
    envelope = JSON.parse(text)
  } catch {
    return { kind: 'not-json' }
  }
  const error = readError(envelope)
  if (error) return { kind: 'error', error }
  const result = (envelope as { result?: { data?: { json?: unknown } } } | null)?.result
  if (result && typeof result === 'object' && result.data && typeof result.data === 'object') return { kind: 'value', value: result.data.json }
  return { kind: 'other' }
}

function readError(envelope: unknown): TrpcError | undefined {
  if (!envelope || typeof envelope !== 'object') return undefined
  const record = envelope as Record<string, unknown>
  const inner = (record.error as { json?: unknown } | undefined)?.json ?? (record.result ? undefined : record)
  if (!inner || typeof inner !== 'object' || !('message' in inner)) return undefined
  const body = inner as { message?: unknown; code?: unknown; data?: { code?: unknown; zodError?: { fieldErrors?: unknown } | null } }
  const code = typeof body.data?.code === 'string' ? body.data.code : typeof body.code === 'string' ? body.code : undefined
  const fieldErrors = body.data?.zodError?.fieldErrors
  return {
    message: typeof body.message === 'string' ? body.message : undefined,
    code,
    fieldErrors: fieldErrors && typeof fieldErrors === 'object' ? (fieldErrors as Record<string, unknown>) : undefined
  }
}
