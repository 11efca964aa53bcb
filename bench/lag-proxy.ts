// A TCP proxy that delays every chunk by a fixed time each way: a local PostgreSQL then
// answers like a remote one (a GitHub runner and a Supabase project in one region are a
// few milliseconds apart), so what round trips cost shows in a benchmark.
// Run: npx tsx bench/lag-proxy.ts --listen 5498 --target 5432 --delay-ms 5
import net from 'node:net'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '5498' },
    target: { type: 'string', default: '5432' },
    host: { type: 'string', default: '127.0.0.1' },
    'delay-ms': { type: 'string', default: '5' },
    help: { type: 'boolean', default: false },
  },
})
if (values.help) {
  console.log(`usage: npx tsx bench/lag-proxy.ts [--listen PORT] [--target PORT] [--host HOST] [--delay-ms MS]

Forwards 127.0.0.1:<listen> to <host>:<target>, each chunk delayed by MS milliseconds in
each direction (a round trip of 2 × MS). Point DATABASE_URL at the listening port.`)
  process.exit(0)
}
const delay = Number(values['delay-ms'])

/** Forwards `from` to `to` late, in order (one delay for every chunk keeps the order). */
function late(from: net.Socket, to: net.Socket): void {
  from.on('data', (chunk) => setTimeout(() => to.write(chunk), delay))
  from.on('end', () => setTimeout(() => to.end(), delay))
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
      `lag-proxy: 127.0.0.1:${values.listen} -> ${values.host}:${values.target}, ${delay} ms each way`,
    ),
  )
