// Typed progress events: engines emit them, the edge renders them (a live line on a
// terminal, plain log lines in CI, nothing with --json but the final summary). Pure.

/** The phases of long work, in the order a backup or restore runs them. */
export type Phase = 'export' | 'upload' | 'download' | 'verify' | 'load' | 'post-data' | 'check'

/** What a phase will handle, as far as it is known (estimates from the catalog; exact from a manifest). */
export interface Amounts {
  rows?: number
  bytes?: number
  tables?: number
}

export type ProgressEvent =
  | { type: 'step'; message: string }
  | { type: 'phase-start'; phase: Phase; total?: Amounts }
  /** Cumulative progress of a phase that is not counted per table (download, upload, verify). */
  | { type: 'phase-progress'; phase: Phase; done: Amounts }
  | { type: 'phase-done'; phase: Phase }
  | {
      type: 'table-start'
      table: string
      index: number
      total: number
      /** The phase the table belongs to; the running phase when absent. */
      phase?: Phase
      /** What the table should hold: `reltuples` and the size on disk on backup, the manifest on restore. */
      estimatedRows?: number
      estimatedBytes?: number
    }
  | { type: 'table-progress'; table: string; rows: number; bytes: number; phase?: Phase }
  | {
      type: 'table-done'
      table: string
      rows: number
      bytes: number
      seconds: number
      parts?: number
      phase?: Phase
    }
  | { type: 'warning'; message: string }
  | {
      /** Storage files, overall: objects done of all, bytes moved of all (lib/storage). */
      type: 'storage-progress'
      phase: 'backup' | 'verify' | 'restore'
      objects: number
      totalObjects: number
      bytes: number
      totalBytes: number
    }

export type EmitEvent = (event: ProgressEvent) => void

export const ignoreEvents: EmitEvent = () => {}
