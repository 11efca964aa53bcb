// The history chart as a standalone SVG (no dependency, opens in any browser and in
// GitHub): backup sizes over time above, drill restore times against the RTO below. Pure.
import { formatBytes, formatCount, plural } from '../core/format.ts'
import { formatSeconds } from '../drills/report.ts'
import type { History } from './history.ts'

const WIDTH = 960
const HEIGHT = 580
const LEFT = 88
const RIGHT = 24
const PANELS = {
  backups: { top: 70, bottom: 270 },
  drills: { top: 340, bottom: 530 },
} as const
const COLORS = {
  data: '#9ecae1',
  archive: '#3182bd',
  success: '#2e7d32',
  warning: '#ed6c02',
  failure: '#c62828',
  target: '#6a1b9a',
  grid: '#e0e0e0',
  axis: '#424242',
  text: '#212121',
  muted: '#757575',
} as const
const DAY = 86_400_000

/** XML text and attribute values: the five characters XML reserves. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;')
}

const n = (value: number) => String(Math.round(value * 10) / 10)

/** One SVG document: a `<g class="backup">` per backup and a `<g class="drill">` per drill or DR test. */
export function renderHistoryChart(history: History): string {
  const times = [
    ...history.backups.map((b) => Date.parse(b.time)),
    ...history.failures.map((f) => Date.parse(f.at)),
    ...history.drills.map((d) => Date.parse(d.startedAt)),
  ]
  const x = timeScale(times)
  const parts: string[] = []
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="chart-title" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<title id="chart-title">Lifeboat history: ${plural(history.backups.length, 'backup')}, ${plural(history.failures.length, 'failed run')}, ${plural(history.drills.length, 'drill')} (generated ${escapeXml(history.generatedAt)})</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="28" font-size="18" font-weight="600" fill="${COLORS.text}">Lifeboat: backups and restore drills</text>`,
    `<text x="${WIDTH - RIGHT}" y="28" text-anchor="end" fill="${COLORS.muted}">generated ${escapeXml(history.generatedAt)}</text>`,
  )
  parts.push(...backupPanel(history, x), ...drillPanel(history, x), ...timeAxis(x))
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

interface TimeScale {
  (time: number): number
  from: number
  to: number
}

function timeScale(times: readonly number[]): TimeScale {
  let from = times.length > 0 ? Math.min(...times) : Date.now()
  let to = times.length > 0 ? Math.max(...times) : from
  // Room for the first and last bar; a single instant gets a day on each side.
  const pad = to - from < DAY ? DAY / 2 : (to - from) * 0.04
  from -= pad
  to += pad
  const scale = ((time: number) => LEFT + ((time - from) / (to - from)) * (WIDTH - LEFT - RIGHT)) as TimeScale
  scale.from = from
  scale.to = to
  return scale
}

function timeAxis(x: TimeScale): string[] {
  const y = PANELS.drills.bottom
  const span = x.to - x.from
  const count = 6
  const out = [`<g class="time-axis" fill="${COLORS.muted}">`]
  for (let i = 0; i <= count; i++) {
    const t = x.from + (span * i) / count
    const iso = new Date(t).toISOString()
    const label = span < 3 * DAY ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10)
    const anchor = i === 0 ? 'start' : i === count ? 'end' : 'middle'
    out.push(`<text x="${n(x(t))}" y="${y + 22}" text-anchor="${anchor}">${label}</text>`)
  }
  out.push(`<text x="${WIDTH - RIGHT}" y="${y + 40}" text-anchor="end">time (UTC)</text>`, '</g>')
  return out
}

function frame(panel: { top: number; bottom: number }, title: string): string[] {
  return [
    `<text x="${LEFT}" y="${panel.top - 12}" font-size="14" font-weight="600" fill="${COLORS.text}">${escapeXml(title)}</text>`,
    `<line x1="${LEFT}" y1="${panel.bottom}" x2="${WIDTH - RIGHT}" y2="${panel.bottom}" stroke="${COLORS.axis}"/>`,
    `<line x1="${LEFT}" y1="${panel.top}" x2="${LEFT}" y2="${panel.bottom}" stroke="${COLORS.axis}"/>`,
  ]
}

function emptyNote(panel: { top: number; bottom: number }, text: string): string {
  return `<text x="${(LEFT + WIDTH - RIGHT) / 2}" y="${(panel.top + panel.bottom) / 2}" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(text)}</text>`
}

/** Ticks at 1, 2 or 5 × a power of ten, about five of them, the last at or above max. */
export function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0]
  const raw = max / 5
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!
  // Up to the first tick at or above max, so the tallest bar stays inside the panel.
  const ticks = [0]
  while (ticks.at(-1)! < max * (1 - 1e-12)) ticks.push(ticks.length * step)
  return ticks
}

function backupPanel(history: History, x: TimeScale): string[] {
  const panel = PANELS.backups
  const out = frame(panel, 'Backup size (data, and the stored archive); failed runs')
  if (history.backups.length === 0)
    return [...out, emptyNote(panel, 'no complete backup in the store'), ...failureMarks(history, x)]
  const max = Math.max(...history.backups.map((b) => Math.max(b.dataBytes, b.archiveBytes)), 1)
  // Round numbers in the unit the labels use (KiB, MiB, GiB), not in bytes.
  const unit = 1024 ** Math.min(4, Math.floor(Math.log(max) / Math.log(1024)))
  const ticks = niceTicks((max * 1.05) / unit).map((t) => t * unit)
  const top = ticks.at(-1)! || 1
  const y = (bytes: number) => panel.bottom - (bytes / top) * (panel.bottom - panel.top)
  for (const tick of ticks) {
    out.push(
      `<line x1="${LEFT}" y1="${n(y(tick))}" x2="${WIDTH - RIGHT}" y2="${n(y(tick))}" stroke="${COLORS.grid}"/>`,
      `<text x="${LEFT - 6}" y="${n(y(tick) + 4)}" text-anchor="end" fill="${COLORS.muted}">${escapeXml(formatBytes(tick))}</text>`,
    )
  }
  const plotWidth = WIDTH - LEFT - RIGHT
  const barWidth = Math.max(1.5, Math.min(22, (plotWidth / history.backups.length) * 0.7))
  for (const b of history.backups) {
    const cx = x(Date.parse(b.time))
    const label = `${b.id}: ${formatBytes(b.dataBytes)} data, ${formatBytes(b.archiveBytes)} archive, ${formatCount(b.rows)} rows in ${plural(b.tables, 'table')}, ${formatSeconds(b.durationSeconds)}`
    out.push(
      `<g class="backup"><title>${escapeXml(label)}</title>`,
      `<rect x="${n(cx - barWidth / 2)}" y="${n(y(b.dataBytes))}" width="${n(barWidth)}" height="${n(panel.bottom - y(b.dataBytes))}" fill="${COLORS.data}"/>`,
      `<rect x="${n(cx - barWidth / 4)}" y="${n(y(b.archiveBytes))}" width="${n(barWidth / 2)}" height="${n(panel.bottom - y(b.archiveBytes))}" fill="${COLORS.archive}"/>`,
      '</g>',
    )
  }
  out.push(...failureMarks(history, x))
  out.push(
    ...legend(panel, [
      { color: COLORS.data, label: 'data (uncompressed)', shape: 'rect' },
      { color: COLORS.archive, label: 'stored archive', shape: 'rect' },
      ...(history.failures.length > 0
        ? [{ color: COLORS.failure, label: 'failed run', shape: 'dot' as const }]
        : []),
    ]),
  )
  return out
}

/** A red mark on the time axis of the backup panel for each failed run. */
function failureMarks(history: History, x: TimeScale): string[] {
  const y = PANELS.backups.bottom - 7
  return history.failures.map((f) => {
    const cx = x(Date.parse(f.at))
    return `<g class="failed-run"><title>${escapeXml(`${f.at} ${f.event} failed: ${f.code}: ${f.message}`)}</title><circle cx="${n(cx)}" cy="${y}" r="5" fill="${COLORS.failure}"/></g>`
  })
}

const SECOND_TICKS = [0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 4 * 3600, 86_400, 7 * 86_400]

function drillPanel(history: History, x: TimeScale): string[] {
  const panel = PANELS.drills
  const out = frame(panel, 'Restore time per drill against the RTO target (log scale)')
  if (history.drills.length === 0) return [...out, emptyNote(panel, 'no drill yet: npm run backup:drill')]
  const values = history.drills.flatMap((d) => [
    d.rto.targetSeconds,
    ...(d.rto.measuredSeconds === null ? [] : [d.rto.measuredSeconds]),
    ...(d.projection ? [d.projection.projectedSeconds] : []),
  ])
  const positive = values.filter((v) => v > 0)
  const lo = Math.log10(Math.max(1e-3, Math.min(...positive) / 2))
  const hi = Math.log10(Math.max(Math.max(...positive) * 2, 10 ** lo * 10))
  const y = (seconds: number) => {
    const v = Math.log10(Math.max(seconds, 1e-3))
    return panel.bottom - ((v - lo) / (hi - lo)) * (panel.bottom - panel.top)
  }
  for (const tick of SECOND_TICKS.filter((t) => Math.log10(t) >= lo && Math.log10(t) <= hi)) {
    out.push(
      `<line x1="${LEFT}" y1="${n(y(tick))}" x2="${WIDTH - RIGHT}" y2="${n(y(tick))}" stroke="${COLORS.grid}"/>`,
      `<text x="${LEFT - 6}" y="${n(y(tick) + 4)}" text-anchor="end" fill="${COLORS.muted}">${escapeXml(formatSeconds(tick))}</text>`,
    )
  }
  // The target as a step line: it holds from one drill until the next changes it.
  const steps: string[] = []
  history.drills.forEach((d, i) => {
    const px = x(Date.parse(d.startedAt))
    const py = y(d.rto.targetSeconds)
    steps.push(i === 0 ? `M ${n(LEFT)} ${n(py)}` : `H ${n(px)} V ${n(py)}`)
  })
  steps.push(`H ${n(WIDTH - RIGHT)}`)
  out.push(
    `<path class="rto-target" d="${steps.join(' ')}" fill="none" stroke="${COLORS.target}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
  )
  for (const d of history.drills) {
    const cx = x(Date.parse(d.startedAt))
    const color = COLORS[d.outcome]
    const measured = d.rto.measuredSeconds
    const label =
      measured === null
        ? `${d.id} (${d.kind}) of ${d.backupId ?? 'no backup'}: FAILED${d.error ? ` ${d.error.code}` : ''}${d.failedTables.length > 0 ? ` in ${d.failedTables.join(', ')}` : ''}`
        : `${d.id} (${d.kind}) of ${d.backupId}: ${formatSeconds(measured)} against ${formatSeconds(d.rto.targetSeconds)}, ${d.outcome}${d.projection ? `; projected ${formatSeconds(d.projection.projectedSeconds)}` : ''}`
    out.push(`<g class="drill" data-outcome="${d.outcome}"><title>${escapeXml(label)}</title>`)
    if (measured === null) {
      // A failed run has no restore time: a cross along the top of the panel.
      const cy = panel.top + 10
      out.push(
        `<path d="M ${n(cx - 6)} ${n(cy - 6)} L ${n(cx + 6)} ${n(cy + 6)} M ${n(cx - 6)} ${n(cy + 6)} L ${n(cx + 6)} ${n(cy - 6)}" stroke="${color}" stroke-width="3"/>`,
      )
    } else {
      if (d.projection && d.projection.projectedSeconds !== measured) {
        out.push(
          `<circle class="projected" cx="${n(cx)}" cy="${n(y(d.projection.projectedSeconds))}" r="5" fill="none" stroke="${color}" stroke-width="1.5"/>`,
        )
      }
      out.push(
        `<circle cx="${n(cx)}" cy="${n(y(measured))}" r="6" fill="${color}" stroke="#ffffff" stroke-width="1"/>`,
      )
    }
    out.push('</g>')
  }
  out.push(
    ...legend(panel, [
      { color: COLORS.success, label: 'drill passed', shape: 'dot' },
      { color: COLORS.warning, label: 'warning', shape: 'dot' },
      { color: COLORS.failure, label: 'failed', shape: 'dot' },
      { color: COLORS.target, label: 'RTO target', shape: 'line' },
    ]),
  )
  return out
}

function legend(
  panel: { top: number },
  items: readonly { color: string; label: string; shape: 'rect' | 'dot' | 'line' }[],
): string[] {
  const out = ['<g class="legend">']
  let x = WIDTH - RIGHT
  for (const item of [...items].reverse()) {
    const width = item.label.length * 7 + 30
    x -= width
    const y = panel.top - 16
    if (item.shape === 'rect')
      out.push(`<rect x="${n(x)}" y="${y - 9}" width="12" height="12" fill="${item.color}"/>`)
    else if (item.shape === 'dot')
      out.push(`<circle cx="${n(x + 6)}" cy="${y - 3}" r="5" fill="${item.color}"/>`)
    else
      out.push(
        `<line x1="${n(x)}" y1="${y - 3}" x2="${n(x + 14)}" y2="${y - 3}" stroke="${item.color}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      )
    out.push(`<text x="${n(x + 17)}" y="${y + 1}" fill="${COLORS.text}">${escapeXml(item.label)}</text>`)
  }
  out.push('</g>')
  return out
}
