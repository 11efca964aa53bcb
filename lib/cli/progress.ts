// Renders progress events: on a terminal one status line, redrawn in place and cut to
// the terminal's width; otherwise (CI, pipes) a plain line per running phase every
// interval. Finished tables, steps and warnings are lines of their own. All on stderr.
import type { EmitEvent, ProgressEvent } from '../core/events.ts'
import { formatBytes, formatCount, plural } from '../core/format.ts'
import { redact } from '../core/secret.ts'
import { formatEta, ProgressModel, plainLine, statusLine } from './progress-model.ts'

export interface ProgressOptions {
  /** A terminal: redraw one line in place. */
  live: boolean
  /** Only warnings. */
  quiet: boolean
  /** Without a terminal: at most this long between two lines of a running phase. */
  intervalMs?: number
  clock?: () => number
}

export interface ProgressRenderer {
  emit: EmitEvent
  /** Stops the timers and clears the status line. */
  close(): void
}

type Output = Pick<NodeJS.WriteStream, 'write'> & { columns?: number }

const REDRAW_MS = 100

/** Some terminals (`script`, CI ptys) report 0 columns: unknown, like undefined, is 80. */
function terminalWidth(columns: number | undefined): number {
  return columns !== undefined && columns > 0 ? columns : 80
}

export function createProgressRenderer(stream: Output, options: ProgressOptions): ProgressRenderer {
  const clock = options.clock ?? Date.now
  const intervalMs = options.intervalMs ?? 10_000
  const model = new ProgressModel()
  const lastPlain = new Map<string, number>()
  let statusShown = false
  let lastDraw = 0
  let pending: NodeJS.Timeout | undefined

  const clearStatus = () => {
    if (statusShown) stream.write('\r\x1b[2K')
    statusShown = false
  }
  const draw = () => {
    pending = undefined
    lastDraw = clock()
    const running = model.running(lastDraw)
    clearStatus()
    if (running.length === 0) return
    stream.write(statusLine(running, terminalWidth(stream.columns)))
    statusShown = true
  }
  const scheduleDraw = () => {
    const wait = REDRAW_MS - (clock() - lastDraw)
    if (wait <= 0) draw()
    else pending ??= setTimeout(draw, wait)
  }
  const line = (text: string) => {
    clearStatus()
    stream.write(`${redact(text)}\n`)
    if (options.live) draw()
  }
  const tickPlain = () => {
    const now = clock()
    for (const snapshot of model.running(now)) {
      const since = lastPlain.get(snapshot.phase) ?? now - snapshot.elapsedSeconds * 1000
      if (now - since < intervalMs) continue
      lastPlain.set(snapshot.phase, now)
      stream.write(`${redact(plainLine(snapshot))}\n`)
    }
  }
  const ticker = options.quiet
    ? undefined
    : setInterval(options.live ? draw : tickPlain, options.live ? 1000 : Math.min(1000, intervalMs))
  ticker?.unref()

  const emit = (event: ProgressEvent) => {
    const now = clock()
    model.apply(event, now)
    if (options.quiet) {
      if (event.type === 'warning') stream.write(`${redact(`warning: ${event.message}`)}\n`)
      return
    }
    const text = lineFor(event, model, now) ?? (options.live ? undefined : startLine(event))
    if (text !== undefined) line(text)
    else if (options.live) scheduleDraw()
    if (event.type === 'phase-start') lastPlain.set(event.phase, now)
  }
  return {
    emit,
    close() {
      if (ticker) clearInterval(ticker)
      if (pending) clearTimeout(pending)
      pending = undefined
      clearStatus()
    },
  }
}

/** In a log, a phase says when it starts and how much it has ahead of it. */
function startLine(event: ProgressEvent): string | undefined {
  if (event.type !== 'phase-start') return undefined
  const { rows, bytes, tables } = event.total ?? {}
  const facts = [
    ...(tables === undefined ? [] : [plural(tables, 'table')]),
    ...(rows ? [`${event.phase === 'export' ? '~' : ''}${plural(rows, 'row')}`] : []),
    ...(bytes && !rows ? [formatBytes(bytes)] : []),
  ]
  return `${event.phase}: started${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`
}

/** The line an event prints on its own, if any. */
function lineFor(event: ProgressEvent, model: ProgressModel, now: number): string | undefined {
  switch (event.type) {
    case 'step':
      return event.message
    case 'warning':
      return `warning: ${event.message}`
    case 'phase-done': {
      const s = model.snapshot(event.phase, now)
      if (!s) return undefined
      // A phase that counts bytes but moved none (post-data: statements) says only how long it took.
      if (s.unit === 'bytes' && s.done === 0) return `${event.phase} done in ${formatEta(s.elapsedSeconds)}`
      const amount = s.unit === 'bytes' ? formatBytes(s.done) : plural(s.done, 'row')
      const rate = s.perSecond
        ? `, ${s.unit === 'bytes' ? `${formatBytes(s.perSecond)}/s` : `${formatCount(Math.round(s.perSecond))} rows/s`}`
        : ''
      return `${event.phase} done: ${amount} in ${formatEta(s.elapsedSeconds)}${rate}`
    }
    case 'storage-progress': {
      if (event.objects < event.totalObjects) return undefined
      const s = model.snapshot(`storage ${event.phase}`, now)
      const rate = s?.perSecond ? `, ${formatBytes(s.perSecond)}/s` : ''
      return `storage ${event.phase} done: ${plural(event.totalObjects, 'object')}, ${formatBytes(event.bytes)} in ${formatEta(s?.elapsedSeconds ?? 0)}${rate}`
    }
    case 'table-done': {
      // The after-load check reads no bytes (the server sums the rows): no "0 B" then.
      const bytes = event.bytes > 0 ? `, ${formatBytes(event.bytes)}` : ''
      return `${event.table}: ${plural(event.rows, 'row')}${bytes} in ${event.seconds.toFixed(1)} s${event.parts ? ` (${event.parts} parts in parallel)` : ''}`
    }
    default:
      return undefined
  }
}
