import * as core from '@actions/core'
import { Output } from './constants.js'
import { SPECS } from './operations.js'
import type { Outcome } from './outcome.js'
import { formatDuration, gutter, inline, type Log } from './logger.js'
import { redact } from './secrets.js'

/** Outputs, the job summary and the failure details. Every server string is escaped and redacted. */

export function dashboardUrl(baseUrl: string, outcome: Outcome): string {
  const { projectId, environmentId, resourceId } = outcome
  if (!projectId || !resourceId) return `${baseUrl}/dashboard/projects`
  const service = `services/${SPECS[outcome.resource].dashboardType}/${encodeURIComponent(resourceId)}`
  const env = environmentId ? `environment/${encodeURIComponent(environmentId)}/` : ''
  const tab = outcome.deploymentId ? '?tab=deployments' : ''
  return `${baseUrl}/dashboard/project/${encodeURIComponent(projectId)}/${env}${service}${tab}`
}

const seconds = (ms: number): string => String(Math.round(ms / 1000))

/** A file the runner handed the step (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) that could not be written. */
export class RunnerFileError extends Error {
  constructor(variable: 'GITHUB_OUTPUT' | 'GITHUB_STEP_SUMMARY', what: string, cause: unknown) {
    const reason = inline(cause instanceof Error ? cause.message : String(cause)).replace(/\.+$/, '')
    super(`Could not write ${what} to the file ${variable} names: ${reason}.`)
    this.name = 'RunnerFileError'
  }
}

/** Throws RunnerFileError: @actions/core throws when GITHUB_OUTPUT points to a missing or unwritable file. */
export function writeOutputs(outcome: Outcome): void {
  try {
    core.setOutput(Output.status, outcome.status)
    core.setOutput(Output.deploymentId, outcome.deploymentId ?? '')
    core.setOutput(Output.resourceId, outcome.resourceId ?? '')
    core.setOutput(Output.duration, seconds((outcome.endedAt ?? Date.now()) - outcome.startedAt))
    core.setOutput(Output.logUrl, outcome.dashboardUrl ?? '')
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

export function summaryHtml(outcome: Outcome): string {
  const duration = (outcome.endedAt ?? Date.now()) - outcome.startedAt
  const icon = outcome.ok ? '✅' : '❌'
  const rows: [string, string][] = [
    ['Resource', `${escape(outcome.resource)}${outcome.name ? ` <code>${escape(outcome.name)}</code>` : ''}`],
    ['Resource ID', outcome.resourceId ? `<code>${escape(outcome.resourceId)}</code>` : '—'],
    ['Operation', escape(outcome.operation)],
    ['Status', `<b>${escape(outcome.status)}</b>`]
  ]
  if (outcome.environmentName) rows.push(['Environment', escape(outcome.environmentName)])
  if (outcome.deploymentId) rows.push(['Deployment', `<code>${escape(outcome.deploymentId)}</code>${outcome.matchedBy ? ` (matched by ${escape(outcome.matchedBy)})` : ''}`])
  if (outcome.buildMs !== undefined) {
    rows.push(['Queued', formatDuration(Math.max(0, duration - outcome.buildMs))])
    rows.push(['Build', formatDuration(outcome.buildMs)])
  }
  rows.push(['Duration', formatDuration(duration)])
  if (outcome.dashboardUrl) rows.push(['Dashboard', `<a href="${escape(outcome.dashboardUrl)}">open in Dokploy</a>`])

  const parts = [
    `<h2>${icon} Dokploy ${escape(outcome.operation)}: ${escape(outcome.status)}</h2>`,
    `<table>${rows.map(([k, v]) => `<tr><th align="left">${k}</th><td>${v}</td></tr>`).join('')}</table>`
  ]
  if (!outcome.ok && outcome.message) parts.push(`<p>${escapeText(outcome.message)}</p>`)
  if (outcome.errorMessage) parts.push(`<p><b>Dokploy says:</b> ${escapeText(outcome.errorMessage)}</p>`)
  // redacted before and after stripping: a secret may hold a control character, or be split by a colour code
  const tail = outcome.logTail ? plainText(redact(outcome.logTail)).trimEnd() : ''
  if (tail.trim()) parts.push(logTailBlock(tail))
  return parts.join('\n')
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
function logTailBlock(tail: string): string {
  const lines = tail.split('\n').length
  return [`<details><summary>Last ${lines} lines of the build log</summary>`, '', '<pre>', escapeText(tail), '</pre>', '', '</details>'].join('\n')
}

/** Throws RunnerFileError when GITHUB_STEP_SUMMARY points to a missing or unwritable file. */
export async function writeSummary(outcome: Outcome): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  try {
    await core.summary.addRaw(summaryHtml(outcome), true).write()
  } catch (error) {
    throw new RunnerFileError('GITHUB_STEP_SUMMARY', 'the job summary', error)
  }
}

/** Outputs and job summary; what could not be written comes back as messages that fail the step. */
export async function writeRunnerFiles(outcome: Outcome): Promise<string[]> {
  const problems: string[] = []
  const ended = ` Dokploy ${outcome.operation} itself ended "${outcome.status}".`
  for (const write of [() => writeOutputs(outcome), () => writeSummary(outcome)]) {
    try {
      await write()
    } catch (error) {
      problems.push(`${error instanceof Error ? error.message : String(error)}${ended}`)
    }
  }
  return problems
}

/** The build log tail and Dokploy's errorMessage, in a collapsed group, behind a gutter. */
export function printFailureDetails(outcome: Outcome, log: Log): void {
  if (!outcome.errorMessage && !outcome.logTail) return
  const body = [
    outcome.errorMessage ? `Dokploy's error message:\n${gutter(redact(outcome.errorMessage))}` : '',
    outcome.logTail ? `Last lines of the build log:\n${gutter(redact(outcome.logTail))}` : ''
  ]
    .filter(Boolean)
    .join('\n\n')
  log.group(detailsTitle(outcome), body)
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
