// A job's overall deadline as an AbortSignal combined with the harness's (SIGINT,
// SIGTERM): whichever comes first aborts the job, and the usual cancellation path
// (undo, cleanup, exit) does the rest. The reason is a DEADLINE_EXCEEDED error.
import { SETTINGS } from '../settings/settings.ts'
import type { SettingsReader } from './config.ts'
import { LifeboatError } from './errors.ts'

/**
 * `90m`, `2h`, `45s`, `1h30m` or plain seconds (`3600`) to milliseconds; `0` is no
 * deadline; undefined for anything else.
 */
export function parseDuration(text: string): number | undefined {
  const value = text.trim()
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value)
  if (!match || value === '') return undefined
  const [, h = '0', m = '0', s = '0'] = match
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000
}

/** `1h30m`, `45s`: a duration as people write it. */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || total === 0 ? `${s}s` : ''}`
}

export interface DeadlineSignal {
  signal: AbortSignal
  /** Stops the timer once the job is over. */
  dispose(): void
}

/** `signal` plus a deadline `ms` from now (none when `ms` is 0 or undefined). */
export function withDeadline(signal: AbortSignal | undefined, ms: number | undefined): DeadlineSignal {
  const base = signal ?? new AbortController().signal
  if (!ms || ms <= 0) return { signal: base, dispose: () => {} }
  const timer = new AbortController()
  const handle = setTimeout(() => {
    timer.abort(
      new LifeboatError(
        'DEADLINE_EXCEEDED',
        `the job's deadline of ${formatDuration(ms)} (LIFEBOAT_DEADLINE) passed`,
      ),
    )
  }, ms)
  // The deadline alone must not keep a finished process alive.
  handle.unref()
  return { signal: AbortSignal.any([base, timer.signal]), dispose: () => clearTimeout(handle) }
}

/** `--deadline` / `LIFEBOAT_DEADLINE` (`0` for none), in milliseconds. */
export function readDeadline(reader: SettingsReader): number {
  const raw = reader.optional(SETTINGS.deadline) ?? '0'
  const ms = parseDuration(raw)
  if (ms === undefined) {
    reader.invalid(
      `LIFEBOAT_DEADLINE (--deadline) must be a duration such as 90m, 2h, 1h30m or 3600 (seconds), or 0 for none, got "${raw}"`,
    )
    return 0
  }
  return ms
}
