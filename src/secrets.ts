import * as core from '@actions/core'

/**
 * Every secret the action holds goes through here: the runner masks it in the log, and
 * `redact` removes it from the few server snippets we ever quote (non-JSON error bodies).
 */
const known = new Set<string>()

/** Values this short would blank common text all over the log; they are never printed anyway. */
const MIN_MASKED_LENGTH = 3

/** `always`: mask even a short value (the API key, whatever its length). */
export function registerSecret(value: string | null | undefined, always = false): void {
  if (!value) return
  for (const line of value.split(/\r?\n/)) {
    const part = line.trim()
    if ((always || part.length >= MIN_MASKED_LENGTH) && part && !known.has(part)) {
      known.add(part)
      core.setSecret(part)
    }
  }
}

export function redact(text: string): string {
  let out = text
  for (const secret of known) out = out.split(secret).join('***')
  return out
}
