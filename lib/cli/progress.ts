// Renders progress events: a live status line on a terminal, plain log lines
// otherwise (CI, pipes). Everything goes to stderr; stdout is for results.
import type { EmitEvent, ProgressEvent } from '../core/events.ts'
import { formatBytes } from '../core/format.ts'
import { redact } from '../core/secret.ts'

export function createProgressRenderer(
  stream: NodeJS.WriteStream,
  options: { live: boolean; quiet: boolean },
): EmitEvent {
  let statusShown = false
  const clearStatus = () => {
    if (statusShown) stream.write('\r\x1b[2K')
    statusShown = false
  }
  const line = (text: string) => {
    clearStatus()
    stream.write(`${redact(text)}\n`)
  }
  return (event: ProgressEvent) => {
    if (options.quiet && event.type !== 'warning') return
    switch (event.type) {
      case 'step':
        line(event.message)
        break
      case 'warning':
        line(`warning: ${event.message}`)
        break
      case 'table-start':
        if (options.live) {
          clearStatus()
          stream.write(`[${event.index + 1}/${event.total}] ${event.table} …`)
          statusShown = true
        }
        break
      case 'table-progress':
        if (options.live) {
          clearStatus()
          stream.write(`${event.table}: ${event.rows.toLocaleString('en')} rows, ${formatBytes(event.bytes)}`)
          statusShown = true
        }
        break
      case 'storage-progress':
        if (options.live) {
          clearStatus()
          stream.write(
            `storage ${event.phase}: ${event.objects.toLocaleString('en')}/${event.totalObjects.toLocaleString('en')} objects, ${formatBytes(event.bytes)} of ${formatBytes(event.totalBytes)}`,
          )
          statusShown = true
        }
        break
      case 'table-done':
        line(
          `${event.table}: ${event.rows.toLocaleString('en')} rows, ${formatBytes(event.bytes)} in ${event.seconds.toFixed(1)} s${event.parts ? ` (${event.parts} parts in parallel)` : ''}`,
        )
        break
    }
  }
}
