// Progress of Storage files and of the archive's upload: objects and bytes overall, a
// share and a time left, a closing line per finished phase, and the upload beside the
// export without taking its tables.
import { describe, expect, it } from 'vitest'
import { createProgressRenderer } from '../../lib/cli/progress.ts'
import { ProgressModel, plainLine, statusLine } from '../../lib/cli/progress-model.ts'
import type { ProgressEvent } from '../../lib/core/events.ts'

const MiB = 1024 * 1024

function storage(objects: number, bytes: number, phase: 'backup' | 'verify' | 'restore' = 'backup') {
  return {
    type: 'storage-progress',
    phase,
    objects,
    totalObjects: 8,
    bytes,
    totalBytes: 40 * MiB,
  } as const satisfies ProgressEvent
}

describe('storage progress in the model', () => {
  it('shows bytes against the total, the objects done, a rate and the time left', () => {
    const model = new ProgressModel()
    model.apply(storage(0, 0), 0)
    model.apply(storage(2, 10 * MiB), 2000)
    const [snapshot] = model.running(2000)
    expect(snapshot).toMatchObject({
      phase: 'storage backup',
      unit: 'bytes',
      done: 10 * MiB,
      total: 40 * MiB,
      fraction: 0.25,
      etaSeconds: 6,
      objects: { done: 2, total: 8 },
    })
    expect(statusLine(model.running(2000), 120)).toBe(
      'storage backup 25% 10.0 MiB/40.0 MiB 2/8 objects 5.0 MiB/s ETA 6s',
    )
    expect(plainLine(snapshot!)).toBe(
      'storage backup: 25% (10.0 MiB of 40.0 MiB), 5.0 MiB/s, ETA 6s, 2 s elapsed, 2/8 objects done',
    )
  })

  it('counts by objects when no bytes are to be read (every object unchanged)', () => {
    const model = new ProgressModel()
    model.apply({ ...storage(4, 0), totalBytes: 0 }, 1000)
    expect(model.running(1000)[0]!.fraction).toBe(0.5)
  })

  it('ends the phase with the last object, and a next run of the phase starts afresh', () => {
    const model = new ProgressModel()
    model.apply(storage(8, 40 * MiB, 'verify'), 4000)
    expect(model.running(4000)).toEqual([])
    model.apply(storage(1, MiB, 'verify'), 5000)
    expect(model.running(5000)[0]).toMatchObject({ phase: 'storage verify', objects: { done: 1 } })
  })
})

describe('the upload beside the export', () => {
  it('counts uploaded bytes after the export on the line', () => {
    const model = new ProgressModel()
    model.apply({ type: 'phase-start', phase: 'upload' }, 0)
    model.apply({ type: 'phase-start', phase: 'export', total: { rows: 100 } }, 0)
    model.apply({ type: 'table-start', table: 't', index: 0, total: 1, estimatedRows: 100 }, 0)
    model.apply({ type: 'table-progress', table: 't', rows: 50, bytes: 1 }, 1000)
    model.apply({ type: 'phase-progress', phase: 'upload', done: { bytes: 3 * MiB } }, 1000)
    const [exported, uploaded] = model.running(1000)
    expect(exported).toMatchObject({ phase: 'export', done: 50, fraction: 0.5 })
    expect(uploaded).toMatchObject({ phase: 'upload', unit: 'bytes', done: 3 * MiB, perSecond: 3 * MiB })
    expect(statusLine(model.running(1000), 200)).toBe(
      'export 50% 50/~100 rows 50/s ETA 1s · t 50% | upload 3.0 MiB 3.0 MiB/s',
    )
  })

  it('leaves unnamed table events (the API source names no phase) out of the upload', () => {
    const model = new ProgressModel()
    model.apply({ type: 'phase-start', phase: 'upload' }, 0)
    model.apply({ type: 'table-start', table: 't', index: 0, total: 1 }, 0)
    model.apply({ type: 'table-done', table: 't', rows: 7, bytes: 70, seconds: 1 }, 1000)
    expect(model.snapshot('upload', 1000)).toMatchObject({ done: 0, tablesDone: 0 })
    expect(model.snapshot('tables', 1000)).toMatchObject({ done: 7, tablesDone: 1 })
  })
})

describe('the download beside the restore', () => {
  it('puts the load first on the line, the download after it', () => {
    const model = new ProgressModel()
    model.apply({ type: 'phase-start', phase: 'download', total: { bytes: 8 * MiB } }, 0)
    model.apply({ type: 'phase-start', phase: 'load', total: { rows: 100 } }, 0)
    model.apply({ type: 'table-start', phase: 'load', table: 't', index: 0, total: 1, estimatedRows: 100 }, 0)
    model.apply({ type: 'table-progress', phase: 'load', table: 't', rows: 25, bytes: 1 }, 1000)
    model.apply({ type: 'phase-progress', phase: 'download', done: { bytes: 4 * MiB } }, 1000)
    expect(model.running(1000).map((p) => p.phase)).toEqual(['load', 'download'])
    expect(model.snapshot('download', 1000)).toMatchObject({ unit: 'bytes', done: 4 * MiB, fraction: 0.5 })
  })
})

describe('the renderer', () => {
  it('prints one closing line when a storage phase finishes', () => {
    const lines: string[] = []
    let now = 0
    const renderer = createProgressRenderer(
      { write: (text: string) => lines.push(text) > 0 },
      { live: false, quiet: false, clock: () => now },
    )
    renderer.emit(storage(0, 0, 'restore'))
    now = 4000
    renderer.emit(storage(8, 40 * MiB, 'restore'))
    renderer.close()
    expect(lines).toEqual(['storage restore done: 8 objects, 40.0 MiB in 4s, 10.0 MiB/s\n'])
  })
})
