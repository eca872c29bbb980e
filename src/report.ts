import * as core from '@actions/core'
import { Output } from './constants.js'
import { SPECS } from './operations.js'
import type { Outcome } from './outcome.js'
import { formatDuration, gutter, type Log } from './logger.js'
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

export function writeOutputs(outcome: Outcome): void {
  core.setOutput(Output.status, outcome.status)
  core.setOutput(Output.deploymentId, outcome.deploymentId ?? '')
  core.setOutput(Output.resourceId, outcome.resourceId ?? '')
  core.setOutput(Output.duration, seconds((outcome.endedAt ?? Date.now()) - outcome.startedAt))
  core.setOutput(Output.logUrl, outcome.dashboardUrl ?? '')
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
  if (outcome.logTail) {
    const lines = outcome.logTail.trimEnd().split('\n').length
    parts.push(`<details><summary>Last ${lines} lines of the build log</summary><pre>${escapeText(outcome.logTail)}</pre></details>`)
  }
  return parts.join('\n')
}

export async function writeSummary(outcome: Outcome, log: Log): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  try {
    await core.summary.addRaw(summaryHtml(outcome), true).write()
  } catch (error) {
    log.debug(`job summary not written: ${error instanceof Error ? error.message : String(error)}`)
  }
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
  log.group(`Why deployment ${outcome.deploymentId ?? ''} failed`.trim(), body)
}
