import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import type { GetOptions, Store } from '../../lib/adapters/store/store.ts'

/**
 * Bytes as a socket gives them: 4 KiB per turn of the event loop; with `dropAt`, the
 * connection drops there, its error (by default a plain "connection reset by peer",
 * which no reader takes for transient) emitted at once.
 */
export function servedBytes(
  bytes: Buffer,
  dropAt?: number,
  error: () => Error = () => new Error('connection reset by peer'),
): Readable {
  let at = 0
  return new Readable({
    read() {
      setImmediate(() => {
        if (dropAt !== undefined && at >= dropAt) {
          this.destroy(error())
          return
        }
        const piece = bytes.subarray(at, at + 4096)
        at += piece.length
        this.push(piece.length > 0 ? piece : null)
      })
    },
  })
}

/**
 * `store`, whose archives (`.tar.gz`) come as `serve` makes of their bytes (and of the
 * byte a resumed read asks to start from); sidecars and listings are read as they are.
 */
export function servingArchives(store: Store, serve: (archive: Buffer, from: number) => Readable): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property !== 'get') {
        const value = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      }
      return async (key: string, options?: GetOptions) =>
        key.endsWith('.tar.gz')
          ? serve(await buffer(await target.get(key)), options?.from ?? 0)
          : target.get(key, options)
    },
  })
}

/** A socket reset as Node reports one (code ECONNRESET): transient, worth reading again. */
export const socketReset = (): Error => Object.assign(new Error('aborted'), { code: 'ECONNRESET' })
