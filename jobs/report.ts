#!/usr/bin/env -S npx tsx
// lifeboat report (npm run backup:report) — the history of backups, failed runs and drills,
// and the store's footprint and cost: Markdown on stdout and a chart (SVG) a person can open.
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { openStore } from '../lib/adapters/store/open-store.ts'
import { isMainModule, type JobSpec, main } from '../lib/cli/run-job.ts'
import { readStoreConfig, SettingsReader } from '../lib/core/config.ts'
import { renderHistoryChart } from '../lib/history/chart.ts'
import { estimateCost, footprintMarkdown, readFootprint } from '../lib/history/footprint.ts'
import { renderHistoryMarkdown } from '../lib/history/history.ts'
import { readHistory } from '../lib/history/read-history.ts'
import { readNow } from '../lib/monitor/freshness.ts'
import { SETTINGS } from '../lib/settings/settings.ts'

export const job: JobSpec = {
  name: 'report',
  async run(context) {
    const { args, env, emit } = context
    const reader = new SettingsReader(env, args)
    const store = readStoreConfig(reader)
    const now = readNow(reader)
    const out = resolve(reader.optional(SETTINGS.out)!)
    const markdownFile = reader.optional(SETTINGS.markdown)
    const prices = {
      currentGbMonth: reader.number(SETTINGS.priceGbMonth),
      noncurrentGbMonth: reader.number(SETTINGS.priceNoncurrentGbMonth),
      currency: reader.optional(SETTINGS.currency)!,
    }
    reader.finish()
    emit({ type: 'step', message: `reading backups, failed runs and drill reports in ${store!.url}` })
    const opened = openStore(store!)
    const history = await readHistory(opened, now)
    const footprint = await readFootprint(opened)
    const cost = estimateCost(footprint, prices)
    const svg = renderHistoryChart(history)
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, svg)
    context.log(`chart written to ${out}`)
    const markdown = `${renderHistoryMarkdown(history, { chart: out })}\n\n${footprintMarkdown(footprint, cost, prices)}`
    if (markdownFile) {
      await mkdir(dirname(resolve(markdownFile)), { recursive: true })
      await writeFile(resolve(markdownFile), `${markdown}\n`)
    }
    return { summary: { chart: out, ...history, footprint, cost }, text: markdown, markdown }
  },
}

if (isMainModule(import.meta.url)) main(job)
