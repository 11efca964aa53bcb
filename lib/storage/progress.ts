// Overall progress of a storage phase as `storage-progress` events, at most a few a
// second however many objects and chunks pass.
import type { EmitEvent } from '../core/events.ts'

export class StorageProgress {
  objects = 0
  bytes = 0
  readonly #emit: EmitEvent
  readonly #phase: 'backup' | 'verify' | 'restore'
  readonly #totalObjects: number
  readonly #totalBytes: number
  #last = 0

  constructor(
    emit: EmitEvent,
    phase: 'backup' | 'verify' | 'restore',
    totalObjects: number,
    totalBytes: number,
  ) {
    this.#emit = emit
    this.#phase = phase
    this.#totalObjects = totalObjects
    this.#totalBytes = totalBytes
  }

  addBytes = (n: number): void => {
    this.bytes += n
    this.#maybeEmit()
  }

  objectDone(): void {
    this.objects++
    this.#maybeEmit(this.objects === this.#totalObjects)
  }

  #maybeEmit(force = false): void {
    const now = Date.now()
    if (!force && now - this.#last < 250) return
    this.#last = now
    this.#emit({
      type: 'storage-progress',
      phase: this.#phase,
      objects: this.objects,
      totalObjects: this.#totalObjects,
      bytes: this.bytes,
      totalBytes: this.#totalBytes,
    })
  }
}
