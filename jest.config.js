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
  // end-to-end files mostly wait (on the emulator and the action's pauses), so twice as many workers as cores
  // finish sooner; on 2 cores jest's default would be a single worker
  maxWorkers: '200%',
  verbose: false
}
