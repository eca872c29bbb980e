import type { DomainRow } from './dokploy/api.js'

/** A host name as a URL carries it: no scheme, path, credentials, query or white space. */
const HOST = /^[^\s/\\?#@]+$/

/**
 * The public URL of an application or compose service (the `url` output): its first https domain, else
 * its first domain, as `scheme://host` plus its path. Disabled domains are not served and are skipped;
 * a host that is not a host name (server text) gives no URL rather than a wrong one.
 */
export function serviceUrl(domains: DomainRow[]): string | undefined {
  const served = domains.filter((domain) => domain.enabled)
  const chosen = served.find((domain) => domain.https) ?? served[0]
  if (!chosen || !HOST.test(chosen.host)) return undefined
  let origin: URL
  try {
    origin = new URL(`${chosen.https ? 'https' : 'http'}://${chosen.host}`)
  } catch {
    return undefined
  }
  if (origin.pathname !== '/' || origin.search || origin.hash) return undefined
  const raw = chosen.path?.trim() ?? ''
  // the URL parser encodes what a path may not hold; a query or fragment in it is not part of the path
  const path = raw === '' || raw === '/' ? '' : new URL(raw.startsWith('/') ? raw : `/${raw}`, origin).pathname
  return `${origin.origin}${path}`
}
