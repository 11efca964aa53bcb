// One runner for every job's phases: each named phase runs in order, is timed, and
// may leave cleanups (always run, last first) and undos (run only when a later phase
// fails). Cancellation is the signal passed in: between phases, and inside them. Pure.
import { LifeboatError } from './errors.ts'
import type { EmitEvent } from './events.ts'

export interface PhaseTiming {
  phase: string
  seconds: number
}

/** What a phase may do besides its work: register cleanups and undos, watch the signal. */
export interface PhaseScope {
  readonly signal: AbortSignal
  readonly emit: EmitEvent
  /** Runs when the pipeline ends, however it ends (temp folders, connections). */
  defer(cleanup: () => Promise<void>): void
  /** Runs only when a phase fails or the run is cancelled (roll back, delete what was written). */
  onFailure(undo: (error: unknown) => Promise<void>): void
}

export interface Phase<C> {
  readonly name: string
  /** Skipped (and not timed) when this says no. */
  readonly when?: (context: C) => boolean
  run(context: C, scope: PhaseScope): Promise<void>
}

export interface PipelineRun {
  timings: PhaseTiming[]
  seconds: number
}

/** The error a run ends with, knowing which phase failed and how long each took. */
export class PhaseError extends Error {
  override readonly name = 'PhaseError'
  constructor(
    readonly phase: string,
    override readonly cause: unknown,
    readonly timings: readonly PhaseTiming[],
  ) {
    super(`${phase}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}

/** The error for a run that was interrupted (SIGINT, SIGTERM, a deadline). */
export function interrupted(signal: AbortSignal): LifeboatError {
  const reason = signal.reason
  if (reason instanceof LifeboatError) return reason
  const why = reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'interrupted'
  return new LifeboatError('INTERRUPTED', why)
}

/**
 * Runs the phases in order. On failure (or cancellation) the undos run, last first,
 * then the cleanups; the failure is rethrown as a PhaseError naming the phase.
 */
export async function runPhases<C>(
  phases: readonly Phase<C>[],
  context: C,
  options: { signal: AbortSignal; emit: EmitEvent },
): Promise<PipelineRun> {
  const began = performance.now()
  const timings: PhaseTiming[] = []
  const cleanups: (() => Promise<void>)[] = []
  const undos: ((error: unknown) => Promise<void>)[] = []
  const scope: PhaseScope = {
    signal: options.signal,
    emit: options.emit,
    defer: (cleanup) => void cleanups.push(cleanup),
    onFailure: (undo) => void undos.push(undo),
  }
  let current = 'start'
  try {
    for (const phase of phases) {
      if (phase.when && !phase.when(context)) continue
      if (options.signal.aborted) throw interrupted(options.signal)
      current = phase.name
      const start = performance.now()
      try {
        await phase.run(context, scope)
      } finally {
        const seconds = (performance.now() - start) / 1000
        timings.push({ phase: phase.name, seconds })
      }
    }
    // Once the last phase (a commit) has run, the work is done: a late interrupt changes nothing.
    return { timings, seconds: (performance.now() - began) / 1000 }
  } catch (error) {
    const cause = options.signal.aborted ? interrupted(options.signal) : error
    for (const undo of undos.reverse()) await undo(cause)
    throw new PhaseError(current, cause, timings)
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) =>
        options.emit({
          type: 'warning',
          message: `cleanup after ${current} failed: ${(error as Error).message}`,
        }),
      )
    }
  }
}

/** The seconds a set of phases took together (0 when none ran). */
export function secondsOf(timings: readonly PhaseTiming[], names: readonly string[]): number {
  return timings.filter((t) => names.includes(t.phase)).reduce((sum, t) => sum + t.seconds, 0)
}
