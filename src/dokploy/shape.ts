import { ShapeError } from './errors.js'

/** Small readers that pick named fields out of a parsed reply and refuse anything else. */
export type Json = Record<string, unknown>

export function object(value: unknown, what: string): Json {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ShapeError(`expected ${what}`)
  return value as Json
}

export function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ShapeError(`expected a list of ${what}`)
  return value
}

export function text(record: Json, key: string): string | undefined {
  const value = record[key]
  return typeof value === 'string' ? value : undefined
}

export function requiredText(record: Json, key: string, what: string): string {
  const value = text(record, key)
  if (value === undefined) throw new ShapeError(`${what} without ${key}`)
  return value
}

export function nullableText(record: Json, key: string): string | null {
  return text(record, key) ?? null
}
