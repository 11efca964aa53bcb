// An HTTP proxy in front of the test S3 API that records every request, so a test can
// prove what a job read from the store (and what it never touched).
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface CountingProxy {
  endpoint: string
  /** `GET /bucket/key?query`, in order. */
  requests: string[]
  close(): Promise<void>
}

/**
 * With `cutFirstGetAfter`, the first GET whose answer runs longer is cut there: its socket
 * is destroyed mid-body, as a dropped connection does.
 */
export async function startCountingProxy(
  target: string,
  options: { cutFirstGetAfter?: number } = {},
): Promise<CountingProxy> {
  const upstream = new URL(target)
  const requests: string[] = []
  let cut = options.cutFirstGetAfter === undefined
  const server = createServer((incoming, answer) => {
    const conditions = [
      incoming.headers.range,
      incoming.headers['if-match'] && `if-match ${incoming.headers['if-match']}`,
    ].filter(Boolean)
    requests.push(
      `${incoming.method} ${incoming.url}${conditions.length ? ` (${conditions.join(', ')})` : ''}`,
    )
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (response) => {
        answer.writeHead(response.statusCode ?? 502, response.headers)
        if (cut || incoming.method !== 'GET') {
          response.pipe(answer)
          return
        }
        let sent = 0
        response.on('data', (chunk: Buffer) => {
          if (cut) return
          const room = options.cutFirstGetAfter! - sent
          sent += chunk.length
          if (sent <= options.cutFirstGetAfter!) answer.write(chunk)
          else {
            cut = true
            answer.write(chunk.subarray(0, room), () => answer.socket?.destroy())
          }
        })
        response.on('end', () => answer.end())
      },
    )
    forwarded.on('error', () => answer.destroy())
    incoming.pipe(forwarded)
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((done) => server.close(() => done())),
  }
}
