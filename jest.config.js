/** Jest on ESM: ts-jest transpiles TypeScript only (tsc type-checks separately, which is faster). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: { isolatedModules: true, allowJs: true } }]
  },
  testTimeout: 30000,
  // one worker per core, never more: each end-to-end run is a Node process of its own, and more workers than
  // cores only makes them wait for the CPU (on 2 cores jest's default would be a single worker). The end-to-end
  // files that mostly wait run their tests concurrently instead (test.concurrent, an emulator per test)
  maxWorkers: '100%',
  maxConcurrency: 16,
  verbose: false
}
