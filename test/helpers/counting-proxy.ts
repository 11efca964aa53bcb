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

export interface ProxyOptions {
  /** The first GET whose answer runs longer is cut there: its socket destroyed mid-body, as a dropped connection does. */
  cutFirstGetAfter?: number
  /** Awaited before that cut, with the bytes up to it sent (e.g. to replace the object meanwhile). */
  beforeCut?: () => Promise<void>
  /** A GET whose If-Match is not the object's ETag is answered 412, as S3 does (s3rver ignores If-Match). */
  honourIfMatch?: boolean
  /** The first request this picks is carried out, but its answer never arrives: the connection drops instead. */
  loseAnswerTo?: (method: string, url: string) => boolean
  /**
   * The first request this picks never reaches the store: it is answered 409
   * ConditionalRequestConflict, as S3 answers a conditional write racing another of its key.
   */
  conflictOn?: (method: string, url: string) => boolean
  /** Every request this picks is answered 403 AccessDenied, as S3 answers a role without the grant. */
  denyOn?: (method: string, url: string) => boolean
}

/** S3's error document for a failed precondition (the SDK names the error by its Code). */
const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
  '<Message>the object no longer has the ETag If-Match names</Message><Condition>If-Match</Condition></Error>'

/** S3's error document for a request the caller's policy does not allow. */
const ACCESS_DENIED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'

/** S3's error document for a conditional write that raced another write of the key. */
const CONDITIONAL_CONFLICT =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ConditionalRequestConflict</Code>' +
  '<Message>A conflicting operation occurred. If using PutObject you can retry the request.</Message></Error>'

export async function startCountingProxy(target: string, options: ProxyOptions = {}): Promise<CountingProxy> {
  const upstream = new URL(target)
  const requests: string[] = []
  let cut = options.cutFirstGetAfter === undefined
  let answerLost = false
  let conflicted = false
  const server = createServer((incoming, answer) => {
    const ifMatch = incoming.headers['if-match']
    const conditions = [incoming.headers.range, ifMatch && `if-match ${ifMatch}`].filter(Boolean)
    requests.push(
      `${incoming.method} ${incoming.url}${conditions.length ? ` (${conditions.join(', ')})` : ''}`,
    )
    if (options.denyOn?.(incoming.method ?? '', incoming.url ?? '')) {
      incoming.resume()
      // A HEAD answer carries no body (S3 names the error by its status alone).
      const body = incoming.method === 'HEAD' ? '' : ACCESS_DENIED
      incoming.once('end', () => answer.writeHead(403, { 'content-type': 'application/xml' }).end(body))
      return
    }
    if (options.conflictOn?.(incoming.method ?? '', incoming.url ?? '') && !conflicted) {
      conflicted = true
      incoming.resume()
      incoming.once('end', () =>
        answer.writeHead(409, { 'content-type': 'application/xml' }).end(CONDITIONAL_CONFLICT),
      )
      return
    }
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (response) => {
        if (options.loseAnswerTo?.(incoming.method ?? '', incoming.url ?? '') && !answerLost) {
          answerLost = true
          response.resume()
          response.once('end', () => answer.socket?.destroy())
          return
        }
        if (
          options.honourIfMatch &&
          ifMatch &&
          response.statusCode === 206 &&
          response.headers.etag !== ifMatch
        ) {
          response.resume()
          answer.writeHead(412, { 'content-type': 'application/xml' }).end(PRECONDITION_FAILED)
          return
        }
        answer.writeHead(response.statusCode ?? 502, response.headers)
        if (cut || incoming.method !== 'GET') {
          response.pipe(answer)
          return
        }
        let sent = 0
        let cutting = false
        response.on('data', (chunk: Buffer) => {
          if (cutting) return
          const room = options.cutFirstGetAfter! - sent
          sent += chunk.length
          // Another GET in flight may have taken the one cut meanwhile: this one goes through.
          if (sent <= options.cutFirstGetAfter! || cut) answer.write(chunk)
          else {
            cut = cutting = true
            answer.write(chunk.subarray(0, room), async () => {
              await options.beforeCut?.()
              answer.socket?.destroy()
            })
          }
        })
        response.on('end', () => cutting || answer.end())
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
