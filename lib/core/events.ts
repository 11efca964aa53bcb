// Typed progress events: engines emit them, the edge renders them (a live line on a
// terminal, plain log lines in CI, nothing with --json but the final summary). Pure.

export type ProgressEvent =
  | { type: 'step'; message: string }
  | { type: 'table-start'; table: string; index: number; total: number }
  | { type: 'table-progress'; table: string; rows: number; bytes: number }
  | { type: 'table-done'; table: string; rows: number; bytes: number; seconds: number; parts?: number }
  | { type: 'warning'; message: string }
  | { type: 'phase-start'; phase: string }
  | { type: 'phase-done'; phase: string; seconds: number }
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
