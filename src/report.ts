import * as core from '@actions/core'
import { appendFileSync } from 'node:fs'
import { EOL } from 'node:os'
import { Output } from './constants.js'
import type { Outcome } from './outcome.js'
import { formatRounded, gutter, inline, wall, type Log } from './logger.js'
import { redact, redactMasked } from './secrets.js'
import { serviceLabel } from './target.js'

export { dashboardUrl } from './dashboard.js'

/** Outputs, the job summary and the failure details. Every server string is escaped and redacted. */

/** What the step did: one outcome per target (or one that says why the step failed before any). */
export interface StepReport {
  outcomes: Outcome[]
  /** The resource and operation inputs, as the user wrote them. */
  resource: string
  operation: string
  /** The deployment title (commit and run), when the operation sent one. */
  title?: string
  startedAt: number
  endedAt?: number
}

const seconds = (ms: number): number => Math.round(ms / 1000)
/** Every outcome and the step have ended by the time they are reported. */
const tookMs = (from: { startedAt: number; endedAt?: number }): number => (from.endedAt ?? from.startedAt) - from.startedAt
const several = (step: StepReport): boolean => step.outcomes.length > 1

/** Several targets: done when every one succeeded, else the status of the first that did not. */
export function stepStatus(step: StepReport): string {
  if (!several(step)) return step.outcomes[0]?.status ?? 'failed'
  return step.outcomes.find((outcome) => !outcome.ok)?.status ?? 'done'
}

export const stepOk = (step: StepReport): boolean => step.outcomes.length > 0 && step.outcomes.every((outcome) => outcome.ok)

/** How a status reads: a timeout is a build still running, not a failed one. */
const phrase = (status: string): string => (status === 'timeout' ? 'still running when the step stopped waiting' : status)

const icon = (ok: boolean, status: string): string => (ok ? '✅' : status === 'timeout' ? '⏳' : '❌')

/** The resource and operation shown: as written when the step failed before it had a target. */
const shown = (outcome: Outcome): { resource: string; operation: string } => outcome.asWritten ?? outcome

const labelOf = (outcome: Outcome): string => serviceLabel(outcome.name, outcome.resourceId)

/** One object per target, in order: the `results` output. */
export function results(step: StepReport): Record<string, string | number>[] {
  return step.outcomes
    .filter((outcome) => !outcome.asWritten)
    .map((outcome) => ({
      resource: outcome.resource,
      id: outcome.resourceId ?? '',
      name: outcome.name ?? '',
      environment: outcome.environmentName ?? '',
      status: outcome.status,
      'deployment-id': outcome.deploymentId ?? '',
      url: outcome.url ?? '',
      'rolled-back-to': outcome.rolledBackTo ?? '',
      duration: seconds(tookMs(outcome))
    }))
}

/** A file the runner handed the step (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) that could not be written. */
export class RunnerFileError extends Error {
  constructor(variable: 'GITHUB_OUTPUT' | 'GITHUB_STEP_SUMMARY', what: string, cause: unknown) {
    // node:fs errors come from another realm under jest: not instanceof Error there, yet with a message
    const message = (cause as { message?: unknown } | undefined)?.message
    const reason = inline(typeof message === 'string' ? message : String(cause)).replace(/\.+$/, '')
    super(`Could not write ${what} to the file ${variable} names: ${reason}.`)
    this.name = 'RunnerFileError'
  }
}

/**
 * Throws RunnerFileError: @actions/core throws when GITHUB_OUTPUT points to a missing or unwritable file.
 * With several targets, resource-id, deployment-id, log-url and url hold one line per target, in order.
 * No output holds a value the runner masks: it would drop that output (actions/runner#1061).
 */
export function writeOutputs(step: StepReport): void {
  const each = (value: (outcome: Outcome) => string | undefined): string => step.outcomes.map((outcome) => value(outcome) ?? '').join('\n')
  const set = (name: string, value: string): void => core.setOutput(name, redactMasked(value))
  try {
    set(Output.status, stepStatus(step))
    set(Output.deploymentId, each((o) => o.deploymentId))
    set(Output.resourceId, each((o) => o.resourceId))
    set(Output.duration, String(seconds(tookMs(step))))
    set(Output.logUrl, each((o) => o.dashboardUrl))
    set(Output.url, each((o) => o.url))
    set(Output.rolledBackTo, each((o) => o.rolledBackTo))
    set(Output.results, JSON.stringify(results(step), (_key, value: unknown) => (typeof value === 'string' ? redactMasked(value) : value)))
  } catch (error) {
    throw new RunnerFileError('GITHUB_OUTPUT', "the step's outputs", error)
  }
}

/** HTML-escapes, and turns Markdown's active characters into entities so nothing from the server renders as a link or a table. */
export function escape(text: string): string {
  return text.replace(/[&<>"'`[\]()*_|\\!#~]/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** For free text from the server (messages, logs), which may quote a secret: redacted, then escaped. */
const escapeText = (text: string): string => escape(redact(text))

/** The heading names the operation, the service(s) and how it ended. */
function heading(step: StepReport): string {
  const status = stepStatus(step)
  const first = step.outcomes[0]
  const operation = several(step) ? step.operation : shown(first).operation
  const labels = step.outcomes.map(labelOf).filter(Boolean)
  const who = labels.length === 0 ? '' : labels.length <= 5 ? labels.join(', ') : `${labels.length} services`
  return `${icon(stepOk(step), status)} Dokploy ${escape(operation)}${who ? ` of ${escape(who)}` : ''}: ${escape(phrase(status))}`
}

export function summaryHtml(step: StepReport): string {
  const parts = [`<h2>${heading(step)}</h2>`]
  if (several(step)) parts.push(...severalTargets(step))
  else parts.push(...oneTarget(step, step.outcomes[0]))
  return parts.join('\n')
}

function oneTarget(step: StepReport, outcome: Outcome): string[] {
  const duration = tookMs(step)
  const { resource, operation } = shown(outcome)
  const rows: [string, string][] = [
    ['Resource', `${escape(resource)}${outcome.name ? ` <code>${escape(outcome.name)}</code>` : ''}`],
    ['Resource ID', outcome.resourceId ? `<code>${escape(outcome.resourceId)}</code>` : '—'],
    ['Operation', escape(operation)]
  ]
  if (step.title) rows.push(['Title', escapeText(step.title)])
  rows.push(['Status', `<b>${escape(outcome.status)}</b>${outcome.status === 'timeout' ? ` (${phrase(outcome.status)})` : ''}`])
  if (outcome.environmentName) rows.push(['Environment', escape(outcome.environmentName)])
  if (outcome.deploymentId) rows.push(['Deployment', `<code>${escape(outcome.deploymentId)}</code>${outcome.matchedBy ? ` (matched by ${escape(outcome.matchedBy)})` : ''}`])
  // by Dokploy's own clock: from enqueue to the build's start, and the build
  if (outcome.queuedMs !== undefined) rows.push(['Queued', formatRounded(outcome.queuedMs)])
  if (outcome.buildMs !== undefined) rows.push(['Build', formatRounded(outcome.buildMs)])
  if (outcome.ok && outcome.rollout) {
    rows.push(['Rollout', outcome.rollout.checked ? '✅ the new version runs (checked)' : `ℹ️ the rollout was not checked: ${escapeText(outcome.rollout.why)}`])
  }
  // the same number as the duration output
  rows.push(['Duration', formatRounded(duration)])
  if (outcome.dashboardUrl) rows.push(['Dashboard', `<a href="${escape(outcome.dashboardUrl)}">open in Dokploy</a>`])
  if (outcome.url) rows.push(['URL', `<a href="${escape(outcome.url)}">${escape(outcome.url)}</a>`])
  return [`<table>${rows.map(([k, v]) => `<tr><th align="left">${k}</th><td>${v}</td></tr>`).join('')}</table>`, ...failureParts(outcome)]
}

/** One row per target, then what went wrong with each that failed. */
function severalTargets(step: StepReport): string[] {
  const head = ['Service', 'Resource', 'Environment', 'Status', 'Deployment', 'Duration', 'Links']
  const rows = step.outcomes.map((outcome) => {
    const links = [
      outcome.dashboardUrl ? `<a href="${escape(outcome.dashboardUrl)}">Dokploy</a>` : '',
      outcome.url ? `<a href="${escape(outcome.url)}">${escape(outcome.url)}</a>` : ''
    ].filter(Boolean)
    return [
      `${icon(outcome.ok, outcome.status)} <code>${escape(labelOf(outcome))}</code>`,
      escape(outcome.resource),
      escape(outcome.environmentName ?? '—'),
      `<b>${escape(outcome.status)}</b>`,
      outcome.deploymentId ? `<code>${escape(outcome.deploymentId)}</code>` : '—',
      formatRounded(tookMs(outcome)),
      links.join(' · ') || '—'
    ]
  })
  const table = `<table><tr>${head.map((h) => `<th align="left">${h}</th>`).join('')}</tr>${rows.map((cells) => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</table>`
  const parts = [table, `<p>${step.title ? `Title: ${escapeText(step.title)} · ` : ''}Duration: ${formatRounded(tookMs(step))}</p>`]
  for (const { outcome, message } of rolloutNotes(step)) {
    parts.push(`<p>ℹ️ ${several(step) ? `<code>${escape(labelOf(outcome))}</code>: ` : ''}${escapeText(message)}</p>`)
  }
  for (const outcome of step.outcomes.filter((o) => !o.ok)) {
    parts.push(`<h3>${icon(false, outcome.status)} ${escape(labelOf(outcome))}: ${escape(phrase(outcome.status))}</h3>`, ...failureParts(outcome))
  }
  return parts
}

/** Our message, Dokploy's own and the end of the build log, for a target that did not succeed. */
function failureParts(outcome: Outcome): string[] {
  const parts: string[] = []
  if (!outcome.ok && outcome.message) parts.push(`<p>${escapeText(outcome.message)}</p>`)
  if (outcome.errorMessage) parts.push(`<p><b>Dokploy says:</b> ${escapeText(outcome.errorMessage)}</p>`)
  // redacted before and after stripping: a secret may hold a control character, or be split by a colour code
  const tail = outcome.logTail ? plainText(redact(outcome.logTail)).trimEnd() : ''
  if (tail.trim()) parts.push(logTailBlock(tail))
  const runtime = outcome.runtimeLog ? plainText(redact(outcome.runtimeLog.text)).trimEnd() : ''
  if (runtime.trim() && outcome.runtimeLog) parts.push(logTailBlock(runtime, `Runtime log: ${outcome.runtimeLog.label}`))
  return parts
}

/**
 * ESC sequences a terminal interprets: CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by
 * BEL or ESC \\), the other two-character escapes, and CSI in its one-byte C1 form.
 */
// eslint-disable-next-line no-control-regex -- escape sequences are what is being removed
const TERMINAL_ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]|\u009b[0-?]*[ -/]*[@-~]/g
/** Every other control character but tab and newline. */
// eslint-disable-next-line no-control-regex -- control characters are what is being removed
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/** Log text as plain lines: colours and other terminal escapes removed, a carriage return (progress output) starts a line. */
export function plainText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(TERMINAL_ESCAPES, '').replace(CONTROL_CHARACTERS, '')
}

/**
 * The log tail inside <details>, verbatim whatever it holds. Under CommonMark a blank line ends the
 * HTML block that <details> opens, and the rest would render as Markdown; so <pre> starts its own
 * block after a blank line: an HTML block opened by <pre> runs to the line that holds </pre>
 * (or </script>, </style>, </textarea>), blank lines included, and the escaped text holds none of those.
 */
function logTailBlock(tail: string, title?: string): string {
  const lines = tail.split('\n').length
  return [`<details><summary>${title ? escape(title) : `Last ${lines} lines of the build log`}</summary>`, '', '<pre>', escapeText(tail), '</pre>', '', '</details>'].join('\n')
}

/** Throws RunnerFileError when GITHUB_STEP_SUMMARY points to a missing or unwritable file. */
export function writeSummary(step: StepReport): void {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  try {
    // what core.summary.write() appends, without its two trips through libuv's thread pool: 1.5 ms of a
    // 70 ms start-up to an input error
    appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${summaryHtml(step)}${EOL}`)
  } catch (error) {
    throw new RunnerFileError('GITHUB_STEP_SUMMARY', 'the job summary', error)
  }
}

/** Outputs and job summary; what could not be written comes back as messages that fail the step. */
export async function writeRunnerFiles(step: StepReport): Promise<string[]> {
  // the step's own commands follow (outputs, annotations): the runner must be running them
  wall.lower()
  const problems: string[] = []
  const ended = ` Dokploy ${inline(step.operation)} itself ended "${stepStatus(step)}".`
  for (const write of [() => writeOutputs(step), () => writeSummary(step)]) {
    try {
      await write()
    } catch (error) {
      problems.push(`${error instanceof Error ? error.message : String(error)}${ended}`)
    }
  }
  return problems
}

/** The build log tail and Dokploy's errorMessage of each target, in a collapsed group, behind a gutter. */
export function printFailureDetails(step: StepReport, log: Log): void {
  for (const outcome of step.outcomes) {
    if (!outcome.errorMessage && !outcome.logTail && !outcome.runtimeLog) continue
    const body = [
      outcome.errorMessage ? `Dokploy's error message:\n${gutter(redact(outcome.errorMessage))}` : '',
      outcome.logTail ? `Last lines of the build log:\n${gutter(redact(outcome.logTail))}` : '',
      outcome.runtimeLog ? `Runtime log, ${outcome.runtimeLog.label}:\n${gutter(redact(outcome.runtimeLog.text))}` : ''
    ]
      .filter(Boolean)
      .join('\n\n')
    log.group(several(step) ? `[${inline(labelOf(outcome))}] ${detailsTitle(outcome)}` : detailsTitle(outcome), body)
  }
}

/** Targets whose rollout after `done` was not checked, each with why: one notice each, and a line in the summary. */
export function rolloutNotes(step: StepReport): { outcome: Outcome; message: string }[] {
  return step.outcomes.flatMap((outcome) =>
    outcome.ok && outcome.rollout && !outcome.rollout.checked
      ? [{ outcome, message: inline(redact(`Dokploy reports ${outcome.status}, but the rollout was not checked: ${outcome.rollout.why}. So ${outcome.status} means Swarm accepted the new version, not that it runs.`)) }]
      : []
  )
}

/** The annotations that fail the step: one per target that did not end as expected, each with a title. */
export function failureAnnotations(step: StepReport): { title: string; message: string }[] {
  return step.outcomes
    .filter((outcome) => !outcome.ok)
    .map((outcome) => {
      const { operation } = shown(outcome)
      const label = labelOf(outcome)
      const base = outcome.message ?? `Dokploy ${operation} ended ${outcome.status}.`
      const text = outcome.errorMessage ? `${base} Dokploy says: ${outcome.errorMessage}` : base
      // one line: server text inside an annotation cannot start a workflow command
      return {
        title: inline(redact(`Dokploy ${operation}${label ? ` of ${label}` : ''}: ${phrase(outcome.status)}`)),
        message: inline(redact(several(step) ? `${label}: ${text}` : text))
      }
    })
}

/** Named after what happened: a build that timed out or was cancelled did not fail. */
function detailsTitle(outcome: Outcome): string {
  const deployment = outcome.deploymentId ? `deployment ${outcome.deploymentId}` : 'the deployment'
  const Deployment = deployment[0].toUpperCase() + deployment.slice(1)
  switch (outcome.status) {
    case 'timeout':
      return `${Deployment}: still running when the step stopped waiting`
    case 'cancelled':
      return `${Deployment} was cancelled`
    default:
      return `Why ${deployment} failed`
  }
}
