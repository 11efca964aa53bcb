import { Readable } from 'node:stream'

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
