import type { DokployClient } from './dokploy/client.js'
import { readService, type DetailsWanted, type ServiceDetails } from './dokploy/api.js'
import type { ResourceSpec } from './operations.js'

/**
 * The service's `.one` for one target, read at most once in the run and handed to whoever needs it: the
 * env and image changes, reload's appName, the live log and the failure report (whose server text must not
 * print a secret the step has not learned), the url output, and where the service lives.
 */
export interface ServiceSource {
  /** Reads `.one` on the first call; every later call gets the same answer (or the same failure). */
  read: () => Promise<ServiceDetails>
  /** What the read brought, once it succeeded; undefined before, or when it failed. */
  known: () => ServiceDetails | undefined
}

/** `learned` hears of the read once it succeeded (the outcome takes the service's name and place from it). */
export function serviceSource(client: DokployClient, spec: ResourceSpec, id: string, wanted: DetailsWanted, learned?: (details: ServiceDetails) => void): ServiceSource {
  let reading: Promise<ServiceDetails> | undefined
  let details: ServiceDetails | undefined
  return {
    read: () =>
      (reading ??= readService(client, spec, id, wanted).then((read) => {
        details = read
        learned?.(read)
        return read
      })),
    known: () => details
  }
}
