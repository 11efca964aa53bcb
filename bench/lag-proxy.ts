// A TCP proxy that delays every chunk by a fixed time each way, and with --rate-mbps holds
// each direction to that bandwidth: a local PostgreSQL then answers like a remote one (a
// GitHub runner and a Supabase project in one region are a few milliseconds apart), a
// local S3 API like a bucket across a network, so what round trips and transfers cost
// shows in a benchmark.
// Run: npx tsx bench/lag-proxy.ts --listen 5498 --target 5432 --delay-ms 5 [--rate-mbps 200]
import net from 'node:net'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '5498' },
    target: { type: 'string', default: '5432' },
    host: { type: 'string', default: '127.0.0.1' },
    'delay-ms': { type: 'string', default: '5' },
    'rate-mbps': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  console.log(`usage: npx tsx bench/lag-proxy.ts [--listen PORT] [--target PORT] [--host HOST] [--delay-ms MS] [--rate-mbps MBIT]

Forwards 127.0.0.1:<listen> to <host>:<target>, each chunk delayed by MS milliseconds in
each direction (a round trip of 2 × MS); with --rate-mbps, each direction carries at
most MBIT megabits a second (chunks are held in memory, not pushed back: a benchmark
tool). Point DATABASE_URL (or AWS_ENDPOINT_URL_S3) at the listening port.`)
  process.exit(0)
}
const delay = Number(values['delay-ms'])
/** Bytes per millisecond, or no limit. */
const rate = values['rate-mbps'] ? (Number(values['rate-mbps']) * 1e6) / 8 / 1000 : Number.POSITIVE_INFINITY

/**
 * Forwards `from` to `to` late, in order: each chunk leaves `delay` after it came, and
 * not before the ones ahead of it have left at the rate. One queue and one timer per
 * direction, so chunks never overtake each other (timers of different lengths may).
 */
function late(from: net.Socket, to: net.Socket): void {
  const queue: { at: number; chunk: Buffer | undefined }[] = []
  let free = 0
  let scheduled = false
  const pump = () => {
    scheduled = false
    const now = performance.now()
    while (queue.length > 0 && queue[0]!.at <= now) {
      const { chunk } = queue.shift()!
      if (chunk) to.write(chunk)
      else to.end()
    }
    if (queue.length > 0) schedule(now)
  }
  const schedule = (now: number) => {
    scheduled = true
    setTimeout(pump, queue[0]!.at - now)
  }
  const enqueue = (chunk: Buffer | undefined) => {
    const now = performance.now()
    const at = Math.max(now + delay, free)
    free = at + (chunk?.length ?? 0) / rate
    queue.push({ at, chunk })
    if (!scheduled) schedule(now)
  }
  from.on('data', (chunk: Buffer) => enqueue(chunk))
  from.on('end', () => enqueue(undefined))
  from.on('error', () => to.destroy())
}

net
  .createServer((client) => {
    const server = net.connect(Number(values.target), values.host)
    late(client, server)
    late(server, client)
  })
  .listen(Number(values.listen), '127.0.0.1', () =>
    console.error(
      `lag-proxy: 127.0.0.1:${values.listen} -> ${values.host}:${values.target}, ${delay} ms each way${values['rate-mbps'] ? `, ${values['rate-mbps']} Mbit/s` : ''}`,
    ),
  )
