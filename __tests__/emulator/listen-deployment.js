// Dokploy's live build log, `/listen-deployment` (apps/dokploy/server/wss/listen-deployment.ts, v0.30.2), as facts:
// - the upgrade is always accepted; the checks run on the open socket. The key is verified first (it counts
//   against a rate-limited key), then: no logPath → close 4000 "logPath no provided"; a path with other
//   characters than [\w/. :[\]-] or outside /etc/dokploy → close 4000 "Invalid log path"; a key that is not
//   valid → close with no code and no data;
// - then `tail -n +1 -f` of the file, on Dokploy's host or over SSH on the server named by serverId: the whole
//   file so far, then each chunk as it is written. It never ends by itself;
// - a serverId names the host of the file: Dokploy's own (none), or a remote server over SSH. Each host has its own
//   log files (the log lives where the build ran: the row's buildServerId, else the service's serverId);
// - an unknown serverId: findServerById throws, and its message ("Server not found") is sent, then close;
// - a file tail cannot open (a wrong or missing serverId): locally "tail error: tail: cannot open …", over SSH
//   tail's own words, then close.

import path from 'node:path'

const BASE_PATH = '/etc/dokploy'

/** Dokploy's readValidDirectory. @param {string} logPath */
export function validLogPath(logPath) {
  if (!/^[\w/. :[\]-]{1,500}$/.test(logPath)) return false
  const resolved = path.resolve(logPath)
  return resolved === BASE_PATH || resolved.startsWith(`${BASE_PATH}/`)
}

/** @param {string[]} lines */
const chunk = (lines) => lines.map((line) => `${line}\n`).join('')

/**
 * Serves one accepted connection as Dokploy does.
 * @param {object} opts
 * @param {import('./websocket.js').WebSocketConnection} opts.connection
 * @param {URL} opts.url
 * @param {boolean} opts.keyValid the x-api-key header passed the key check (which spent one request)
 * @param {import('./queue.js').BuildQueue} opts.queue
 */
export function listenDeployment({ connection, url, keyValid, queue }) {
  const logPath = url.searchParams.get('logPath')
  const serverId = url.searchParams.get('serverId') || null
  if (!logPath) return connection.close(4000, 'logPath no provided')
  if (!validLogPath(logPath)) return connection.close(4000, 'Invalid log path')
  if (!keyValid) return connection.close()
  if (serverId && !queue.knownServer(serverId)) {
    connection.send('Server not found')
    return connection.close()
  }
  const file = queue.logFile(logPath, serverId)
  if (!file) {
    const words = `tail: cannot open '${logPath}' for reading: No such file or directory\n`
    connection.send(serverId ? words : `tail error: ${words}`)
    return connection.close()
  }
  if (file.lines.length) connection.send(chunk(file.lines))
  const stop = queue.followLog(file.deploymentId, (lines) => connection.send(chunk(lines)))
  connection.on('close', stop)
}
