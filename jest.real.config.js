/** The conformance suite against a real Dokploy (`npm run test:real`): one file at a time, long timeouts. */
import base from './jest.config.js'

export default {
  ...base,
  roots: ['<rootDir>/__tests__/real'],
  testMatch: ['**/*.real.ts'],
  testTimeout: 300_000,
  maxWorkers: 1
}
