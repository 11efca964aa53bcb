// A real S3 API over HTTP for the tests (s3rver 3.7, in a child process), behind a small
// proxy that adds what s3rver lacks and real S3 does: conditional writes (`If-None-Match: *`
// on PutObject and CompleteMultipartUpload answers 412 when the key exists; s3rver ignores
// the header on writes) and, when asked, IAM: requests signed with an access key id named in
// `policies` are evaluated against that role's policies (403 AccessDenied, and 403 instead of
// 404 for a missing key the role may not list, as S3 answers). Every request is recorded with
// what IAM would authorize, so tests can replay the calls a job made against a role policy.
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PolicyDocument } from '../../infra/iam-documents.ts'
import { freePort } from '../../lib/adapters/postgres/throwaway.ts'
import { type Decision, evaluate } from '../infra/iam-evaluator.ts'
import { accessKeyOf, authorizationsOf, type S3Authorization } from './s3-requests.ts'

export const TEST_BUCKET = 'lifeboat-test'
/** The only key pair s3rver knows; the proxy signs every forwarded request with it. */
const S3RVER_KEY = 'S3RVER'

export interface RolePolicies {
  /** The role's identity policies plus the bucket policy. */
  documents: PolicyDocument[]
  principalArn: string
  /** Extra context keys, e.g. `aws:MultiFactorAuthPresent` for a person. */
  context?: Record<string, string>
}

export interface RecordedRequest {
  accessKeyId: string | undefined
  method: string
  url: string
  authorizations: S3Authorization[]
  /** Set when the request was evaluated against a role's policies. */
  decision?: Decision
  status: number
}

export interface S3Server {
  endpoint: string
  /** Every request the proxy saw, in order. */
  requests: RecordedRequest[]
  stop(): Promise<void>
}

export interface S3ServerOptions {
  /** Access key id → the policies its requests are held to. Other keys are not checked. */
  policies?: Record<string, RolePolicies>
  /** Created at start (the Storage stand-ins start with none and create their own). */
  buckets?: readonly string[]
}

export async function startS3Server(parent = '.tmp', options: S3ServerOptions = {}): Promise<S3Server> {
  const buckets = options.buckets ?? [TEST_BUCKET]
  await mkdir(resolve(parent), { recursive: true })
  const directory = await mkdtemp(join(resolve(parent), 's3-'))
  const port = await freePort()
  const main = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url))
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', main, directory, String(port), ...buckets],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  await new Promise<void>((ready, fail) => {
    child.once('exit', (code) => fail(new Error(`s3rver exited with ${code}`)))
    child.stdout.once('data', () => ready())
  })
  const requests: RecordedRequest[] = []
  const proxy = createServer((req, res) => {
    handle(req, res, port, options, requests).catch((error: Error) => {
      if (!res.headersSent) sendError(res, 500, 'InternalError', error.message)
      else res.destroy(error)
    })
  })
  await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done))
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    requests,
    stop: async () => {
      proxy.closeAllConnections()
      await new Promise((done) => proxy.close(done))
      const exited = new Promise((done) => child.once('exit', done))
      child.kill('SIGTERM')
      // s3rver waits for idle client sockets before it exits; do not let that hold a test run.
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
      await rm(directory, { recursive: true, force: true })
    },
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  upstreamPort: number,
  options: S3ServerOptions,
  requests: RecordedRequest[],
): Promise<void> {
  const method = req.method ?? 'GET'
  const url = req.url ?? '/'
  // Only small POST bodies decide an authorization (DeleteObjects, CompleteMultipartUpload).
  const body = method === 'POST' ? await readBody(req) : undefined
  const authorizations = authorizationsOf({
    method,
    url,
    headers: req.headers,
    ...(body ? { body: body.toString('utf8') } : {}),
  })
  const accessKeyId = accessKeyOf(req.headers.authorization)
  const record: RecordedRequest = { accessKeyId, method, url, authorizations, status: 0 }
  requests.push(record)
  const role = accessKeyId ? options.policies?.[accessKeyId] : undefined
  const contextOf = (auth: S3Authorization) => ({
    ...auth.context,
    'aws:PrincipalArn': role?.principalArn,
    ...role?.context,
  })

  // s3rver itself knows one key; the proxy adds the role keys. Any other key is refused, as S3 does.
  if (accessKeyId && accessKeyId !== S3RVER_KEY && !role) {
    record.status = 403
    return sendError(
      res,
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
    )
  }

  if (role) {
    const decisions = authorizations.map((auth) =>
      evaluate(role.documents, { action: auth.action, resource: auth.resource, context: contextOf(auth) }),
    )
    record.decision = decisions.find((d) => d !== 'allow') ?? 'allow'
    if (record.decision !== 'allow') {
      record.status = 403
      return sendError(res, 403, 'AccessDenied', `${authorizations.map((a) => a.action).join(', ')} denied`)
    }
  }

  const create = authorizations.find(
    (a) => a.context['s3:ObjectCreationOperation'] === 'true' && a.context['s3:if-none-match'] !== undefined,
  )
  if (create) {
    if (create.context['s3:if-none-match'] !== '*') {
      record.status = 501
      return sendError(res, 501, 'NotImplemented', 'If-None-Match accepts only *')
    }
    if (await exists(upstreamPort, create.bucket, create.key!)) {
      record.status = 412
      return sendError(
        res,
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
      )
    }
  }

  const headers = { ...req.headers }
  if (headers.authorization) {
    headers.authorization = headers.authorization.replace(/Credential=[^/]+\//, `Credential=${S3RVER_KEY}/`)
  }
  const upstream = httpRequest({
    host: '127.0.0.1',
    port: upstreamPort,
    method,
    path: url,
    headers,
    agent: false,
  })
  const answer = await new Promise<IncomingMessage>((done, fail) => {
    upstream.once('response', done)
    upstream.once('error', fail)
    if (body) upstream.end(body)
    else req.pipe(upstream)
  })
  const read = authorizations[0]
  if (
    role &&
    answer.statusCode === 404 &&
    read?.key !== undefined &&
    (read.action === 's3:GetObject' || read.action === 's3:GetObjectVersion')
  ) {
    // S3: "If you don't have the s3:ListBucket permission, Amazon S3 returns 403 (access denied)."
    const listing = evaluate(role.documents, {
      action: 's3:ListBucket',
      resource: `arn:aws:s3:::${read.bucket}`,
      context: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': role.principalArn, ...role.context },
    })
    if (listing !== 'allow') {
      answer.resume()
      record.status = 403
      return sendError(res, 403, 'AccessDenied', 'Access Denied')
    }
  }
  record.status = answer.statusCode ?? 0
  res.writeHead(answer.statusCode ?? 500, answer.headers)
  answer.pipe(res)
}

async function exists(port: number, bucket: string, key: string): Promise<boolean> {
  return new Promise((done, fail) => {
    const path = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`
    const head = httpRequest({ host: '127.0.0.1', port, method: 'HEAD', path, agent: false }, (answer) => {
      answer.resume()
      done(answer.statusCode === 200)
    })
    head.once('error', fail)
    head.end()
  })
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) })
  res.end(xml)
}

/** Environment for a job that uses the S3 API server (s3rver accepts any key pair). */
export function s3Env(endpoint: string, prefix: string, accessKeyId = S3RVER_KEY): Record<string, string> {
  return {
    BACKUP_STORE: `s3://${TEST_BUCKET}/${prefix}`,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  }
}
