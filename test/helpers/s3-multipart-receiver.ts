// A local HTTP receiver for the requests of one S3 upload, answering as S3 documents them
// (PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload) and checking what S3 checks of checksums: when the upload was
// created with `x-amz-checksum-algorithm: CRC32`, every part must carry its CRC32 (which
// is answered back), and the completion must list each part's ETag and CRC32. Parts can
// be held unanswered, refused or failed once, to watch what the uploader does meanwhile.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { crc32 } from 'node:zlib'

export interface ReceivedPart {
  partNumber: number
  bytes: Buffer
  crc32: string | undefined
}

const crcOf = (bytes: Buffer) => {
  const value = Buffer.alloc(4)
  value.writeUInt32BE(crc32(bytes))
  return value.toString('base64')
}

export class S3MultipartReceiver {
  readonly requests: string[] = []
  readonly parts = new Map<number, ReceivedPart>()
  /** The object as completed or put; undefined until then. */
  stored: Buffer | undefined
  aborted = false
  /** Set to hold UploadPart answers until release(); parts arrive but are not answered. */
  holdParts = false
  /** Part numbers answered 403 AccessDenied. */
  readonly refuseParts = new Set<number>()
  /** Part numbers answered 500 InternalError the first time they arrive (S3 asks for a retry). */
  readonly failPartsOnce = new Set<number>()
  /** What the receiver found wrong in a request (a missing or wrong checksum). */
  readonly problems: string[] = []
  /** What CreateMultipartUpload asked for in `x-amz-checksum-algorithm`. */
  checksumAlgorithm: string | undefined
  /** The headers of the request that created the object (PutObject or CreateMultipartUpload). */
  objectHeaders: IncomingMessage['headers'] | undefined
  #held: (() => void)[] = []
  #open = 0
  /** The most UploadPart requests open at one time. */
  mostPartsAtOnce = 0
  readonly #server = createServer((request, response) => void this.#handle(request, response))

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    this.release()
    this.#server.closeAllConnections()
    await new Promise((resolve) => this.#server.close(resolve))
  }

  /** Parts that have arrived and wait for their answer. */
  get heldCount(): number {
    return this.#held.length
  }

  release(): void {
    this.holdParts = false
    for (const answer of this.#held.splice(0)) answer()
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url!, 'http://receiver')
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const q = url.searchParams
    if (request.method === 'POST' && q.has('uploads')) {
      this.requests.push('CreateMultipartUpload')
      this.checksumAlgorithm = request.headers['x-amz-checksum-algorithm'] as string | undefined
      this.objectHeaders = request.headers
      return this.#xml(
        response,
        '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>',
      )
    }
    if (request.method === 'PUT' && q.has('partNumber'))
      return this.#part(request, response, Number(q.get('partNumber')), body)
    if (request.method === 'POST' && q.has('uploadId')) return this.#complete(response, body.toString())
    if (request.method === 'DELETE' && q.has('uploadId')) {
      this.requests.push('AbortMultipartUpload')
      this.aborted = true
      response.writeHead(204).end()
      return
    }
    if (request.method === 'PUT') {
      this.requests.push('PutObject')
      this.objectHeaders = request.headers
      const sent = request.headers['x-amz-checksum-crc32'] as string | undefined
      if (sent !== undefined && sent !== crcOf(body)) {
        this.problems.push(`PutObject: x-amz-checksum-crc32 ${sent} is not the CRC32 of its bytes`)
      }
      this.stored = body
      response.writeHead(200, { ETag: '"put"' }).end()
      return
    }
    response.writeHead(400).end()
  }

  #part(request: IncomingMessage, response: ServerResponse, partNumber: number, bytes: Buffer): void {
    this.requests.push(`UploadPart ${partNumber}`)
    if (this.failPartsOnce.delete(partNumber)) {
      this.#xml(
        response,
        '<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>',
        500,
      )
      return
    }
    const sent = request.headers['x-amz-checksum-crc32'] as string | undefined
    if (this.checksumAlgorithm === 'CRC32' && sent !== crcOf(bytes)) {
      this.problems.push(`part ${partNumber}: x-amz-checksum-crc32 ${sent} is not the CRC32 of its bytes`)
    }
    this.parts.set(partNumber, { partNumber, bytes, crc32: sent })
    this.#open++
    this.mostPartsAtOnce = Math.max(this.mostPartsAtOnce, this.#open)
    const answer = () => {
      this.#open--
      if (this.refuseParts.has(partNumber)) {
        return this.#xml(
          response,
          '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
          403,
        )
      }
      response
        .writeHead(200, { ETag: `"etag-${partNumber}"`, ...(sent ? { 'x-amz-checksum-crc32': sent } : {}) })
        .end()
    }
    if (this.holdParts) this.#held.push(answer)
    else answer()
  }

  #complete(response: ServerResponse, xml: string): void {
    this.requests.push('CompleteMultipartUpload')
    const listed = [...xml.matchAll(/<Part>(.*?)<\/Part>/gs)].map((m) => ({
      number: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1]!)?.[1]),
      etag: /<ETag>(.*?)<\/ETag>/.exec(m[1]!)?.[1]?.replaceAll('&quot;', '"'),
      crc32: /<ChecksumCRC32>(.*?)<\/ChecksumCRC32>/.exec(m[1]!)?.[1],
    }))
    const numbers = [...this.parts.keys()].sort((a, b) => a - b)
    if (listed.map((p) => p.number).join() !== numbers.join()) {
      this.problems.push(
        `the completion lists parts ${listed.map((p) => p.number).join()}, ${numbers.join()} were sent`,
      )
    }
    for (const part of listed) {
      if (part.etag !== `"etag-${part.number}"`) this.problems.push(`part ${part.number}: ETag ${part.etag}`)
      if (this.checksumAlgorithm === 'CRC32' && part.crc32 !== this.parts.get(part.number)?.crc32) {
        this.problems.push(`part ${part.number}: the completion lists ChecksumCRC32 ${part.crc32}`)
      }
    }
    this.stored = Buffer.concat(numbers.map((n) => this.parts.get(n)!.bytes))
    this.#xml(
      response,
      '<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"whole"</ETag></CompleteMultipartUploadResult>',
    )
  }

  #xml(response: ServerResponse, xml: string, status = 200): void {
    response
      .writeHead(status, { 'Content-Type': 'application/xml' })
      .end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`)
  }
}
