#!/usr/bin/env -S npx tsx
// npm run backup:report — the history of backups and drills: a Markdown table on
// stdout and a chart (SVG) a person can open; the monthly drill workflow attaches both.
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { writeJobSummary } from '../lib/cli/drill-job.ts'
import { main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { LifeboatError } from '../lib/core/errors.ts'
import { renderHistoryChart } from '../lib/history/chart.ts'
import { renderHistoryMarkdown } from '../lib/history/history.ts'
import { readHistory } from '../lib/history/read-history.ts'
import { readNow } from '../lib/monitor/freshness.ts'

main({
  name: 'report',
  usage: `
Usage: npm run backup:report -- [options]

Reads the store: every complete backup's manifest (size, rows, duration) and every
drill and DR-test report under drills/ (restore time, RTO target, outcome). Prints
the history as Markdown tables and writes a chart of it as an SVG image.

Store:    BACKUP_STORE (s3://bucket/prefix or file://path), or --store
Options:
      --out FILE                the chart (default lifeboat-report.svg)
      --markdown FILE           also write the Markdown to this file
      --store URL               overrides BACKUP_STORE
      --json                    print the history as one JSON line on stdout
  -h, --help                    this help
Exit codes: 0 ok, 1 the store could not be read, 2 bad usage or configuration.
`,
  flags: { string: ['out', 'markdown', 'store'] },
  async run(context) {
    const { args, positional, env, emit } = context
    if (positional.length > 0)
      throw new LifeboatError('USAGE', `backup:report takes no arguments, got: ${positional.join(' ')}`)
    const reader = new SettingsReader(env, args)
    const store = readStoreConfig(reader)
    const now = readNow(reader)
    reader.finish()
    const out = resolve(typeof args.out === 'string' && args.out !== '' ? args.out : 'lifeboat-report.svg')
    emit({ type: 'step', message: `reading backups and drill reports in ${store!.url}` })
    const history = await readHistory(openStore(store!), now)
    const svg = renderHistoryChart(history)
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, svg)
    context.log(`chart written to ${out}`)
    const markdown = renderHistoryMarkdown(history, { chart: out })
    if (typeof args.markdown === 'string' && args.markdown !== '') {
      await mkdir(dirname(resolve(args.markdown)), { recursive: true })
      await writeFile(resolve(args.markdown), `${markdown}\n`)
    }
    await writeJobSummary(context, markdown)
    return {
      summary: { chart: out, ...history },
      text: markdown,
    }
  },
})
