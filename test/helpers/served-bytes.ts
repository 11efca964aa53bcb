import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import type { Store } from '../../lib/adapters/store/store.ts'

/**
 * Bytes as a socket gives them: 4 KiB per turn of the event loop; with `dropAt`, the
 * connection drops there ("connection reset by peer"), its error emitted at once.
 */
export function servedBytes(bytes: Buffer, dropAt?: number): Readable {
  let at = 0
  return new Readable({
    read() {
      setImmediate(() => {
        if (dropAt !== undefined && at >= dropAt) {
          this.destroy(new Error('connection reset by peer'))
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
 * `store`, whose archives (`.tar.gz`) come as `serve` makes of their bytes; sidecars and
 * listings are read as they are.
 */
export function servingArchives(store: Store, serve: (archive: Buffer) => Readable): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property !== 'get') {
        const value = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      }
      return async (key: string) =>
        key.endsWith('.tar.gz') ? serve(await buffer(await target.get(key))) : target.get(key)
    },
  })
}
