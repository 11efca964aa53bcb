import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // One PostgreSQL cluster and one S3 API server for the whole run (test/helpers/global-setup.ts).
    globalSetup: ['test/helpers/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: integration files share one server, so run two files at a time.
    maxWorkers: 2,
  },
})
