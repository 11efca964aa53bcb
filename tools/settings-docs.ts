// npm run docs:settings — writes the README's configuration table from the settings
// table (lib/settings); test/docs/settings.test.ts fails when the README drifts from it.
import { readFileSync, writeFileSync } from 'node:fs'
import { withSettingsTable } from '../lib/settings/docs-table.ts'

const readme = readFileSync('README.md', 'utf8')
const updated = withSettingsTable(readme)
if (updated === readme) process.stdout.write('README.md: the configuration table is up to date\n')
else {
  writeFileSync('README.md', updated)
  process.stdout.write('README.md: configuration table written\n')
}
