// Two projects: `unit` (pure logic, no services) and `integration` (real Temporal dev server,
// Postgres, OCI registry and sandbox, provisioned once per run by test/harness/global-setup.ts).
const transform = { '^.+\\.ts$': ['@swc/jest'] };

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  // Integration tests wait on real jobs; jest only honours this at the top level.
  testTimeout: 120000,
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], transform },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      // Only triggered when an integration test is selected, so `--selectProjects unit` needs no services.
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
