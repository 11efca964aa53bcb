// What long work has done so far, from its progress events: per phase and per table,
// the share done (against the catalog's estimates or the manifest), the rate and the
// time left. Pure: the clock is passed in, so the renderer and its tests agree.
import type { Amounts, Phase, ProgressEvent } from '../core/events.ts'
import { formatBytes, formatCount } from '../core/format.ts'

/** Storage files (lib/storage) are counted in objects and bytes, overall. */
type StorageKey = 'storage backup' | 'storage verify' | 'storage restore'

/** Table events before any phase-start belong to a phase without a name of its own. */
type PhaseKey = Phase | 'tables' | StorageKey

interface TableState {
  name: string
  rows: number
  bytes: number
  estimatedRows: number | undefined
}

interface PhaseState {
  phase: PhaseKey
  startedAt: number
  total: Amounts
  /** Rows and bytes of finished tables, plus what phase-progress reported. */
  finishedRows: number
  finishedBytes: number
  counted: Amounts
  tablesDone: number
  running: Map<string, TableState>
  done: boolean
  /** Storage phases: objects done of all. */
  objects?: { done: number; total: number }
}

export interface PhaseSnapshot {
  phase: PhaseKey
  elapsedSeconds: number
  unit: 'rows' | 'bytes'
  done: number
  /** Undefined when nothing says how much there is. */
  total: number | undefined
  /** 0..1; below 1 until the phase is done, whatever the estimate said. */
  fraction: number | undefined
  perSecond: number | undefined
  etaSeconds: number | undefined
  tables: { name: string; fraction: number | undefined }[]
  tablesDone: number
  tablesTotal: number | undefined
  objects?: { done: number; total: number }
}

const BYTE_PHASES: readonly PhaseKey[] = [
  'download',
  'upload',
  'verify',
  'storage backup',
  'storage verify',
  'storage restore',
]

export class ProgressModel {
  readonly #phases = new Map<PhaseKey, PhaseState>()
  #current: PhaseKey | undefined

  apply(event: ProgressEvent, now: number): void {
    switch (event.type) {
      case 'phase-start':
        this.#phases.set(event.phase, newPhase(event.phase, now, event.total ?? {}))
        // The upload runs beside the export, the download beside the restore's phases:
        // unnamed table events stay with the phase they belong to.
        if (event.phase !== 'upload' && event.phase !== 'download') this.#current = event.phase
        break
      case 'storage-progress':
        this.#storage(event, now)
        break
      case 'phase-progress': {
        const state = this.#phase(event.phase, now)
        state.counted = { ...state.counted, ...event.done }
        break
      }
      case 'phase-done': {
        const state = this.#phases.get(event.phase)
        if (state) state.done = true
        break
      }
      case 'table-start': {
        const state = this.#phase(event.phase, now)
        state.total.tables ??= event.total
        const estimate = event.estimatedRows
        state.running.set(event.table, {
          name: event.table,
          rows: 0,
          bytes: 0,
          estimatedRows: estimate !== undefined && estimate > 0 ? estimate : undefined,
        })
        break
      }
      case 'table-progress': {
        const table = this.#phase(event.phase, now).running.get(event.table)
        if (table) {
          table.rows = event.rows
          table.bytes = event.bytes
        }
        break
      }
      case 'table-done': {
        const state = this.#phase(event.phase, now)
        state.running.delete(event.table)
        state.finishedRows += event.rows
        state.finishedBytes += event.bytes
        state.tablesDone++
        break
      }
    }
  }

  /** The phases still running, oldest first. */
  running(now: number): PhaseSnapshot[] {
    // The upload streams beside the export, the download beside the load: the main phase
    // leads a line cut to the terminal's width.
    const side = (p: PhaseState) => (p.phase === 'upload' || p.phase === 'download' ? 1 : 0)
    return [...this.#phases.values()]
      .filter((p) => !p.done)
      .sort((a, b) => side(a) - side(b))
      .map((p) => snapshotOf(p, now))
  }

  /** A phase, finished or not (for its closing line). */
  snapshot(phase: PhaseKey, now: number): PhaseSnapshot | undefined {
    const state = this.#phases.get(phase)
    return state ? snapshotOf(state, now) : undefined
  }

  /** Storage events are cumulative; a new run of the same phase (next backup verified) starts afresh. */
  #storage(event: Extract<ProgressEvent, { type: 'storage-progress' }>, now: number): void {
    const key: StorageKey = `storage ${event.phase}`
    let state = this.#phases.get(key)
    if (!state || state.done || event.objects < (state.objects?.done ?? 0)) {
      state = newPhase(key, now, { bytes: event.totalBytes })
      this.#phases.set(key, state)
    }
    state.counted = { bytes: event.bytes }
    state.objects = { done: event.objects, total: event.totalObjects }
    if (event.objects >= event.totalObjects) state.done = true
  }

  #phase(phase: Phase | undefined, now: number): PhaseState {
    const key: PhaseKey = phase ?? this.#current ?? 'tables'
    let state = this.#phases.get(key)
    if (!state) {
      state = newPhase(key, now, {})
      this.#phases.set(key, state)
      this.#current ??= key
    }
    return state
  }
}

function newPhase(phase: PhaseKey, now: number, total: Amounts): PhaseState {
  return {
    phase,
    startedAt: now,
    total: { ...total },
    finishedRows: 0,
    finishedBytes: 0,
    counted: {},
    tablesDone: 0,
    running: new Map(),
    done: false,
  }
}

function snapshotOf(state: PhaseState, now: number): PhaseSnapshot {
  const running = [...state.running.values()]
  const rows = state.finishedRows + running.reduce((n, t) => n + t.rows, 0) + (state.counted.rows ?? 0)
  const bytes = state.finishedBytes + running.reduce((n, t) => n + t.bytes, 0) + (state.counted.bytes ?? 0)
  const byBytes = BYTE_PHASES.includes(state.phase) || (!state.total.rows && !rows)
  const unit = byBytes ? 'bytes' : 'rows'
  const done = byBytes ? bytes : rows
  const total = byBytes ? state.total.bytes : state.total.rows
  const elapsedSeconds = Math.max(0, (now - state.startedAt) / 1000)
  const objects = state.objects
  const share =
    total && total > 0
      ? done / total
      : objects && objects.total > 0
        ? objects.done / objects.total
        : undefined
  const fraction = state.done ? 1 : share === undefined ? undefined : Math.min(share, 0.99)
  const perSecond = elapsedSeconds >= 0.5 && done > 0 ? done / elapsedSeconds : undefined
  const etaSeconds =
    total !== undefined && perSecond && !state.done ? Math.max(0, total - done) / perSecond : undefined
  return {
    phase: state.phase,
    elapsedSeconds,
    unit,
    done,
    total,
    fraction,
    perSecond,
    etaSeconds,
    tables: running.map((t) => ({
      name: t.name,
      fraction: t.estimatedRows ? Math.min(t.rows / t.estimatedRows, 0.99) : undefined,
    })),
    tablesDone: state.tablesDone,
    tablesTotal: state.total.tables,
    ...(objects ? { objects: { ...objects } } : {}),
  }
}

/** 1,234 → 1.2k, 2,500,000 → 2.5M: short counts for the one-line display. */
export function shortCount(value: number): string {
  if (value < 1000) return String(Math.round(value))
  if (value < 1e6) return `${(value / 1e3).toFixed(value < 1e4 ? 1 : 0)}k`
  if (value < 1e9) return `${(value / 1e6).toFixed(value < 1e7 ? 1 : 0)}M`
  return `${(value / 1e9).toFixed(1)}G`
}

export function formatEta(seconds: number): string {
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** The export's total is the catalog's estimate; the other phases know theirs. */
function approx(s: PhaseSnapshot): string {
  return s.phase === 'export' || s.phase === 'tables' ? '~' : ''
}

function percent(fraction: number): string {
  return `${Math.floor(fraction * 100)}%`
}

function amount(snapshot: PhaseSnapshot, value: number, short: boolean): string {
  if (snapshot.unit === 'bytes') return formatBytes(value)
  return short ? shortCount(value) : formatCount(Math.round(value))
}

/** The live line: every running phase, cut to the terminal's width. */
export function statusLine(snapshots: readonly PhaseSnapshot[], width: number): string {
  const parts = snapshots.map((s) => {
    const words: string[] = [s.phase]
    if (s.fraction !== undefined) words.push(percent(s.fraction))
    const total = s.total ? `/${approx(s)}${amount(s, s.total, true)}` : ''
    words.push(`${amount(s, s.done, true)}${total}${s.unit === 'rows' ? ' rows' : ''}`)
    if (s.objects) words.push(`${shortCount(s.objects.done)}/${shortCount(s.objects.total)} objects`)
    if (s.perSecond) words.push(`${amount(s, s.perSecond, true)}/s`)
    if (s.etaSeconds !== undefined) words.push(`ETA ${formatEta(s.etaSeconds)}`)
    const tables = s.tables.map(
      (t) => `${t.name}${t.fraction === undefined ? '' : ` ${percent(t.fraction)}`}`,
    )
    return `${words.join(' ')}${tables.length > 0 ? ` · ${tables.join(', ')}` : ''}`
  })
  return fitWidth(parts.join(' | '), width)
}

/** Cuts a line to `width - 1` columns, so the terminal never wraps it. */
export function fitWidth(text: string, width: number): string {
  const max = Math.max(10, width - 1)
  const chars = [...text]
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`
}

/** The plain line printed every interval in CI or into a pipe. */
export function plainLine(s: PhaseSnapshot): string {
  const parts: string[] = []
  const of = s.total ? ` of ${approx(s)}${amount(s, s.total, false)}${s.unit === 'rows' ? ' rows' : ''}` : ''
  const done = `${amount(s, s.done, false)}${s.unit === 'rows' && !of ? ' rows' : ''}`
  parts.push(s.fraction !== undefined ? `${percent(s.fraction)} (${done}${of})` : done)
  if (s.perSecond) parts.push(`${amount(s, s.perSecond, false)}${s.unit === 'rows' ? ' rows' : ''}/s`)
  if (s.etaSeconds !== undefined) parts.push(`ETA ${formatEta(s.etaSeconds)}`)
  parts.push(`${s.elapsedSeconds.toFixed(0)} s elapsed`)
  if (s.tablesTotal) parts.push(`${s.tablesDone}/${s.tablesTotal} tables done`)
  if (s.objects) parts.push(`${formatCount(s.objects.done)}/${formatCount(s.objects.total)} objects done`)
  const running = s.tables.length > 0 ? `; running ${s.tables.map((t) => t.name).join(', ')}` : ''
  return `${s.phase}: ${parts.join(', ')}${running}`
}
