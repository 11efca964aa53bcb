// The store footprint on a versioned bucket. s3rver has no versioning, so S3's documented
// answers to ListObjectVersions (two pages, a delete marker) and ListObjectsV2 come from a
// small HTTP server; the S3 client, its paging and the sums are the real code.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore } from '../../lib/adapters/store/open-store.ts'
import { readStoreConfig, SettingsReader } from '../../lib/core/config.ts'
import { estimateCost, readFootprint } from '../../lib/history/footprint.ts'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'
const AT = '<LastModified>2026-11-25T02:00:00.000Z</LastModified>'

const version = (key: string, id: string, latest: boolean, size: number) =>
  `<Version><Key>${key}</Key><VersionId>${id}</VersionId><IsLatest>${latest}</IsLatest>${AT}<ETag>"e"</ETag><Size>${size}</Size><StorageClass>STANDARD</StorageClass></Version>`

function answer(url: URL): string {
  if (url.searchParams.has('versions')) {
    const page2 = url.searchParams.get('key-marker') === 'lifeboat/b.json'
    const body = page2
      ? `<IsTruncated>false</IsTruncated>${version('lifeboat/b.json', 'b1', false, 3000)}${version('lifeboat/c.json', 'c2', true, 50)}${version('lifeboat/c.json', 'c1', false, 40)}`
      : `<IsTruncated>true</IsTruncated><NextKeyMarker>lifeboat/b.json</NextKeyMarker><NextVersionIdMarker>b2</NextVersionIdMarker>${version('lifeboat/a.json', 'a1', true, 1000)}<DeleteMarker><Key>lifeboat/b.json</Key><VersionId>b2</VersionId><IsLatest>true</IsLatest>${AT}</DeleteMarker>`
    return `<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="${NS}"><Name>bucket</Name><Prefix>lifeboat/</Prefix><MaxKeys>1000</MaxKeys>${body}</ListVersionsResult>`
  }
  const object = (key: string, size: number) =>
    `<Contents><Key>${key}</Key>${AT}<ETag>"e"</ETag><Size>${size}</Size><StorageClass>STANDARD</StorageClass></Contents>`
  return `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="${NS}"><Name>bucket</Name><Prefix>lifeboat/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${object('lifeboat/a.json', 1000)}${object('lifeboat/c.json', 50)}</ListBucketResult>`
}

let server: Server
const requests: string[] = []

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`)
    response.writeHead(200, { 'content-type': 'application/xml' })
    response.end(answer(new URL(request.url ?? '/', 'http://s3')))
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
})
afterAll(() => new Promise<void>((done) => server.close(() => done())))

describe('the footprint of a versioned bucket', () => {
  it('counts current objects, noncurrent versions over every page, and delete markers', async () => {
    const { port } = server.address() as AddressInfo
    const reader = new SettingsReader({
      BACKUP_STORE: 's3://bucket/lifeboat',
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    })
    const store = openStore(readStoreConfig(reader)!)
    reader.finish()
    const footprint = await readFootprint(store)
    expect(footprint).toEqual({
      current: { objects: 2, bytes: 1050 },
      noncurrent: { objects: 2, bytes: 3040, deleteMarkers: 1 },
    })
    expect(requests.filter((r) => r.includes('versions'))).toHaveLength(2)
    expect(
      requests.some((r) => r.includes('key-marker=lifeboat%2Fb.json') && r.includes('version-id-marker=b2')),
    ).toBe(true)
    const cost = estimateCost(footprint, {
      currentGbMonth: 1024 ** 3,
      noncurrentGbMonth: 1024 ** 3 / 2,
      currency: 'USD',
    })
    expect(cost).toEqual({ currency: 'USD', current: 1050, noncurrent: 1520, total: 2570 })
  })
})
