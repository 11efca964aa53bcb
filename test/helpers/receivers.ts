// Local stand-ins for the alert channels, strict about the documented payloads:
// Slack incoming webhook (Block Kit), PagerDuty Events v2, a heartbeat URL, the GitHub
// "list workflow runs" API, and a real SMTP server (smtp-server) that keeps each e-mail.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export interface RecordedRequest {
  method: string
  /** Path and query, e.g. `/v2/enqueue`. */
  path: string
  headers: IncomingHttpHeaders
  body: string
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON payloads
  json?: any
}

export interface Answer {
  status: number
  body?: string | object
  headers?: Record<string, string>
}

export interface HttpReceiver {
  /** `http://127.0.0.1:<port>` */
  origin: string
  /** Where a client should send (origin + the receiver's path). */
  url: string
  requests: RecordedRequest[]
  /** Answers the next `times` requests (default: all) with this status, bypassing validation. */
  failWith(status: number, times?: number, body?: string, headers?: Record<string, string>): void
  /** Never answers the next `times` requests (default: all): a hung endpoint. */
  hang(times?: number): void
  /** Back to normal answers. */
  reset(): void
  waitFor(count: number, timeoutMs?: number): Promise<RecordedRequest[]>
  close(): Promise<void>
}

type Handler = (request: RecordedRequest) => Answer

/** A plain HTTP server that records every request and answers through `handler`. */
export async function startHttpReceiver(handler: Handler, path = '/'): Promise<HttpReceiver> {
  const requests: RecordedRequest[] = []
  let override: { answer: Answer | 'hang'; remaining: number } | undefined
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
      }
      try {
        recorded.json = body ? JSON.parse(body) : undefined
      } catch {
        // not JSON; the handler decides
      }
      requests.push(recorded)
      let answer: Answer | 'hang'
      if (override && override.remaining > 0) {
        override.remaining--
        answer = override.answer
      } else {
        answer = handler(recorded)
      }
      if (answer === 'hang') return // leave the socket open; the client's timeout ends it
      const text =
        typeof answer.body === 'string'
          ? answer.body
          : answer.body === undefined
            ? ''
            : JSON.stringify(answer.body)
      res.writeHead(answer.status, {
        'content-type': typeof answer.body === 'object' ? 'application/json' : 'text/plain',
        ...answer.headers,
      })
      res.end(text)
    })
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    url: `${origin}${path}`,
    requests,
    failWith(status, times = Number.POSITIVE_INFINITY, body = 'error', headers) {
      override = { answer: { status, body, ...(headers ? { headers } : {}) }, remaining: times }
    },
    hang(times = Number.POSITIVE_INFINITY) {
      override = { answer: 'hang', remaining: times }
    },
    reset() {
      override = undefined
    },
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (requests.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} requests, got ${requests.length}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return requests
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}

// --- Slack ------------------------------------------------------------------------

const BLOCK_TYPES = new Set([
  'actions',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'video',
])

/** Problems with an incoming-webhook body, per the Block Kit reference; [] when valid. */
export function validateSlackMessage(body: unknown): string[] {
  const problems: string[] = []
  if (typeof body !== 'object' || body === null) return ['invalid_payload: body is not a JSON object']
  const message = body as { text?: unknown; blocks?: unknown }
  if (message.text !== undefined && typeof message.text !== 'string') problems.push('text must be a string')
  if (message.blocks === undefined) {
    if (typeof message.text !== 'string' || message.text === '') problems.push('no_text')
    return problems
  }
  if (!Array.isArray(message.blocks) || message.blocks.length === 0)
    return ['blocks must be a non-empty array']
  if (message.blocks.length > 50) problems.push('more than 50 blocks')
  for (const [i, block] of (message.blocks as unknown[]).entries()) {
    const where = `blocks[${i}]`
    if (typeof block !== 'object' || block === null) {
      problems.push(`${where} is not an object`)
      continue
    }
    const b = block as Record<string, unknown>
    if (typeof b.type !== 'string' || !BLOCK_TYPES.has(b.type)) {
      problems.push(`${where}.type "${b.type}" is invalid`)
      continue
    }
    if (b.block_id !== undefined && (typeof b.block_id !== 'string' || b.block_id.length > 255)) {
      problems.push(`${where}.block_id is invalid`)
    }
    if (b.type === 'header') checkText(b.text, `${where}.text`, 150, problems, ['plain_text'])
    if (b.type === 'section') {
      if (b.text === undefined && b.fields === undefined) problems.push(`${where} needs text or fields`)
      if (b.text !== undefined) checkText(b.text, `${where}.text`, 3000, problems)
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields) || b.fields.length === 0 || b.fields.length > 10) {
          problems.push(`${where}.fields must hold 1 to 10 text objects`)
        } else {
          for (const [j, field] of b.fields.entries())
            checkText(field, `${where}.fields[${j}]`, 2000, problems)
        }
      }
    }
    if (b.type === 'context') {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) {
        problems.push(`${where}.elements must hold 1 to 10 elements`)
      } else {
        for (const [j, element] of b.elements.entries()) {
          if ((element as { type?: unknown }).type !== 'image') {
            checkText(element, `${where}.elements[${j}]`, 3000, problems)
          }
        }
      }
    }
  }
  return problems
}

function checkText(
  value: unknown,
  where: string,
  max: number,
  problems: string[],
  types: readonly string[] = ['plain_text', 'mrkdwn'],
): void {
  const text = value as { type?: unknown; text?: unknown } | undefined
  if (typeof text !== 'object' || text === null) return void problems.push(`${where} is not a text object`)
  if (typeof text.type !== 'string' || !types.includes(text.type))
    problems.push(`${where}.type must be ${types.join(' or ')}`)
  if (typeof text.text !== 'string' || text.text.length === 0)
    problems.push(`${where}.text must be a non-empty string`)
  else if (text.text.length > max) problems.push(`${where}.text is longer than ${max}`)
}

/** A Slack incoming webhook: 200 "ok", or 400 "invalid_blocks" naming the problems. */
export async function startSlackReceiver(): Promise<HttpReceiver> {
  // The path stands for the webhook's secret part; tests check it never reaches a log.
  return startHttpReceiver((request) => {
    if (request.method !== 'POST') return { status: 405, body: 'invalid_method' }
    if (request.json === undefined) return { status: 400, body: 'invalid_payload' }
    const problems = validateSlackMessage(request.json)
    return problems.length === 0
      ? { status: 200, body: 'ok' }
      : { status: 400, body: `invalid_blocks: ${problems.join('; ')}` }
  }, '/services/T0LIFEBOAT/B0ALERTS/s3cr3tW3bh00kP4th')
}

// --- PagerDuty Events API v2 --------------------------------------------------------

const SEVERITIES = new Set(['critical', 'error', 'warning', 'info'])
const ACTIONS = new Set(['trigger', 'acknowledge', 'resolve'])

/** Problems with an Events v2 body, per PagerDuty's published schema; [] when valid. */
export function validatePagerDutyEvent(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return ['JSON parse error']
  const event = body as Record<string, unknown>
  const problems: string[] = []
  if (typeof event.routing_key !== 'string' || event.routing_key === '')
    problems.push("'routing_key' is missing or blank")
  if (typeof event.event_action !== 'string' || !ACTIONS.has(event.event_action)) {
    problems.push("'event_action' must be one of trigger, acknowledge, resolve")
  }
  if (
    event.dedup_key !== undefined &&
    (typeof event.dedup_key !== 'string' || event.dedup_key.length > 255)
  ) {
    problems.push("'dedup_key' must be a string of at most 255 characters")
  }
  if (event.event_action !== 'trigger' && typeof event.dedup_key !== 'string') {
    problems.push("'dedup_key' is required for acknowledge and resolve")
  }
  if (event.event_action === 'trigger') {
    const payload = event.payload as Record<string, unknown> | undefined
    if (typeof payload !== 'object' || payload === null) {
      problems.push("'payload' is missing")
    } else {
      if (typeof payload.summary !== 'string' || payload.summary === '')
        problems.push("'payload.summary' is missing")
      else if (payload.summary.length > 1024) problems.push("'payload.summary' is longer than 1024")
      if (typeof payload.source !== 'string' || payload.source === '')
        problems.push("'payload.source' is missing")
      if (typeof payload.severity !== 'string' || !SEVERITIES.has(payload.severity)) {
        problems.push("'payload.severity' must be critical, error, warning or info")
      }
      if (payload.timestamp !== undefined && Number.isNaN(Date.parse(String(payload.timestamp)))) {
        problems.push("'payload.timestamp' is not a date-time")
      }
      if (payload.custom_details !== undefined && typeof payload.custom_details !== 'object') {
        problems.push("'payload.custom_details' must be an object")
      }
    }
    for (const link of (event.links as unknown[] | undefined) ?? []) {
      if (typeof (link as { href?: unknown }).href !== 'string') problems.push("'links[].href' is required")
    }
  }
  return problems
}

/** POST /v2/enqueue: 202 {status, message, dedup_key}, or 400 {status:'invalid event', errors}. */
export async function startPagerDutyReceiver(): Promise<HttpReceiver> {
  let generated = 0
  return startHttpReceiver((request) => {
    if (request.method !== 'POST' || !request.path.startsWith('/v2/enqueue'))
      return { status: 404, body: 'not found' }
    const problems = validatePagerDutyEvent(request.json)
    if (problems.length > 0) {
      return {
        status: 400,
        body: { status: 'invalid event', message: 'Event object is invalid', errors: problems },
      }
    }
    const dedupKey = request.json.dedup_key ?? `generated-${++generated}`
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } }
  }, '/v2/enqueue')
}

// --- Heartbeat ----------------------------------------------------------------------

/** A healthchecks.io-style ping URL: any GET answers 200 "OK". */
export async function startHeartbeatReceiver(): Promise<HttpReceiver> {
  return startHttpReceiver(() => ({ status: 200, body: 'OK' }), '/ping/5f3c1e2a-heartbeat-token')
}

// --- GitHub REST: list workflow runs ------------------------------------------------

export interface FakeWorkflowRun {
  id: number
  status: 'completed' | 'in_progress' | 'queued'
  conclusion: 'success' | 'failure' | 'cancelled' | 'timed_out' | 'skipped' | 'startup_failure' | null
  created_at: string
  head_branch?: string
}

/**
 * GET /repos/{owner}/{repo}/actions/workflows/{workflow}/runs, newest first, honouring the
 * `status` and `branch` filters; 401 without a bearer token.
 */
export async function startGitHubApiReceiver(
  runs: FakeWorkflowRun[] = [],
): Promise<HttpReceiver & { runs: FakeWorkflowRun[] }> {
  const receiver = await startHttpReceiver((request) => {
    if (!/^Bearer \S+/.test(String(request.headers.authorization ?? ''))) {
      return { status: 401, body: { message: 'Requires authentication' } }
    }
    const url = new URL(request.path, 'http://x')
    if (!/^\/repos\/[^/]+\/[^/]+\/actions\/workflows\/[^/]+\/runs$/.test(url.pathname)) {
      return { status: 404, body: { message: 'Not Found' } }
    }
    const status = url.searchParams.get('status')
    const branch = url.searchParams.get('branch')
    const perPage = Number(url.searchParams.get('per_page') ?? 30)
    const selected = runs
      .filter((run) => !status || run.status === status || run.conclusion === status)
      .filter((run) => !branch || (run.head_branch ?? 'main') === branch)
      .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at))
    return {
      status: 200,
      body: {
        total_count: selected.length,
        workflow_runs: selected.slice(0, perPage).map((run) => ({ head_branch: 'main', ...run })),
      },
    }
  })
  return Object.assign(receiver, { runs })
}

// --- SMTP -----------------------------------------------------------------------------

export interface ReceivedMail {
  from: string
  to: string[]
  /** The authenticated user, when the client logged in. */
  user?: string
  subject: string
  text: string
  raw: string
}

export interface SmtpReceiver {
  port: number
  /** `smtp://user:password@127.0.0.1:<port>` */
  url: string
  user: string
  password: string
  messages: ReceivedMail[]
  /** Reject the next `times` messages (default: all) at RCPT TO with this SMTP reply code. */
  reject(code: number, times?: number): void
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>
  close(): Promise<void>
}

/** A real SMTP server on a free port (plain text, AUTH allowed without TLS, as a relay in a test). */
export async function startSmtpReceiver(
  options: { user?: string; password?: string } = {},
): Promise<SmtpReceiver> {
  const user = options.user ?? 'lifeboat'
  const password = options.password ?? 'Sm7p-P4ssw0rd-n0t-f0r-l0gs'
  const messages: ReceivedMail[] = []
  let rejection: { code: number; remaining: number } | undefined
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) return callback(null, { user: auth.username })
      return callback(new Error('Invalid username or password'))
    },
    onRcptTo(_address, _session, callback) {
      if (rejection && rejection.remaining > 0) {
        rejection.remaining--
        const error = Object.assign(new Error(`Recipient refused (${rejection.code})`), {
          responseCode: rejection.code,
        })
        return callback(error)
      }
      return callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        const { subject, text } = parseMail(raw)
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject,
          text,
          raw,
        }
        if (typeof session.user === 'string') mail.user = session.user
        messages.push(mail)
        callback()
      })
    },
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', () => ready()))
  const port = (server.server.address() as AddressInfo).port
  return {
    port,
    url: `smtp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    user,
    password,
    messages,
    reject(code, times = Number.POSITIVE_INFINITY) {
      rejection = { code, remaining: times }
    },
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} e-mails, got ${messages.length}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return messages
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  }
}

/** Enough MIME for a single-part text message: unfolded headers, encoded words, QP or base64. */
export function parseMail(raw: string): { subject: string; text: string; headers: Record<string, string> } {
  const split = raw.indexOf('\r\n\r\n')
  const head = split === -1 ? raw : raw.slice(0, split)
  const body = split === -1 ? '' : raw.slice(split + 4)
  const headers: Record<string, string> = {}
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase()
  const text =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(body)
      : encoding === 'base64'
        ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
        : body
  return { subject: decodeWords(headers.subject ?? ''), text: text.replace(/\r\n/g, '\n'), headers }
}

function decodeQuotedPrintable(text: string): string {
  const soft = text.replace(/=\r?\n/g, '')
  const bytes: number[] = []
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(soft.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      bytes.push(...Buffer.from(soft[i]!, 'utf8'))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

function decodeWords(value: string): string {
  // Adjacent encoded words are joined without the whitespace between them (RFC 2047).
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, kind: string, data: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    )
}

/** The environment that points every alert channel at the receivers. */
export function alertEnv(receivers: {
  slack?: HttpReceiver
  pagerDuty?: HttpReceiver
  smtp?: SmtpReceiver
  heartbeat?: HttpReceiver
  oncall?: string
}): Record<string, string> {
  return {
    ...(receivers.slack ? { SLACK_WEBHOOK_URL: receivers.slack.url } : {}),
    ...(receivers.pagerDuty
      ? {
          PAGERDUTY_ROUTING_KEY: 'R0UT1NGK3Y0000000000000000000abc',
          PAGERDUTY_EVENTS_URL: receivers.pagerDuty.url,
        }
      : {}),
    ...(receivers.smtp
      ? { SMTP_URL: receivers.smtp.url, ONCALL_EMAIL: receivers.oncall ?? 'oncall@example.com' }
      : {}),
    ...(receivers.heartbeat ? { HEARTBEAT_URL: receivers.heartbeat.url } : {}),
    // Fast enough for tests, still exercising retry and backoff.
    ALERT_ATTEMPTS: '3',
    ALERT_BACKOFF_MS: '20',
    ALERT_TIMEOUT_MS: '2000',
  }
}
