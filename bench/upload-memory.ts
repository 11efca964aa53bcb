// Peak RSS and seconds of one S3 upload (the store's put, as a backup's archive goes)
// for the part size a database of a given size gets: what the upload holds in memory
// at any size. bench/README.md, "S3 parts staged in files".
//   npx tsx bench/upload-memory.ts [--mib 400] [--runs 2] [--database-gb 16,100] [--other PATH]
// --other: another checkout whose lib/ is measured in turn with this one (an A/B).
import { mkdtempSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { Readable } from 'node:stream'

const [, , mode, root, endpoint, mib, expected] = process.argv
// The child loads only the store, so that its memory is the upload's; zx, the S3 server
// and the measuring are the parent's.
if (mode === '--child') await uploadOnce(root!, endpoint!, Number(mib), Number(expected))
else await compare()

/** The child: one upload of `mib` MiB through the store of the checkout at `root`. */
async function uploadOnce(root: string, endpoint: string, mib: number, expectedBytes: number) {
  const { openStore } = await import(`${root}/lib/adapters/store/open-store.ts`)
  const { readStoreConfig, SettingsReader } = await import(`${root}/lib/core/config.ts`)
  const env = {
    BACKUP_STORE: `s3://lifeboat-test/upload-${Date.now()}`,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_SUPPORTED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  }
  const store = openStore(readStoreConfig(new SettingsReader(env)))
  const block = Buffer.alloc(1024 * 1024, 7)
  async function* body() {
    for (let i = 0; i < mib; i++) {
      block[0] = i & 255
      yield Buffer.from(block)
    }
  }
  const tempDir = mkdtempSync(resolve('.tmp', 'upload-memory-'))
  try {
    await store.put('upload.bin', Readable.from(body(), { highWaterMark: 2 }), { expectedBytes, tempDir })
  } finally {
    rmSync(tempDir, { recursive: true, force: true })
  }
}

async function compare() {
  const { minimist } = await import('zx')
  const { startS3Server } = await import('../test/helpers/s3-server.ts')
  const { assertGnuTime, measure, median } = await import('./measure.ts')
  const args = minimist(process.argv.slice(2), {
    string: ['mib', 'runs', 'database-gb', 'other'],
    boolean: ['help'],
  })
  if (args.help) {
    console.log(`usage: npx tsx bench/upload-memory.ts [--mib N] [--runs N] [--database-gb A,B] [--other PATH]
  Streams N MiB (400) into a local S3 API through S3Store.put, as the backup of a database
  of each size would (16 and 100 GB: 5 MiB and 29 MiB parts), in a child process started
  with the npm scripts' memory settings (and tsx); prints its wall seconds and peak RSS.`)
    return
  }
  assertGnuTime()
  const mib = Number(args.mib ?? 400)
  const runs = Number(args.runs ?? 2)
  const sizes = String(args['database-gb'] ?? '16,100')
    .split(',')
    .map(Number)
  const roots = [resolve('.'), ...(args.other ? [resolve(String(args.other))] : [])]
  const s3 = await startS3Server('.tmp')
  const results = new Map<string, { seconds: number[]; rss: number[] }>()
  try {
    for (let run = 0; run < runs; run++) {
      for (const gb of sizes) {
        for (const checkout of roots) {
          const m = await measure(
            process.execPath,
            ['--max-semi-space-size=1', '--import', 'tsx', 'bench/upload-memory.ts', '--child'].concat([
              checkout,
              s3.endpoint,
              String(mib),
              String(gb * 1e9),
            ]),
            { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '1048576' },
          )
          const key = `${checkout} | ${gb} GB`
          const row = results.get(key) ?? { seconds: [], rss: [] }
          row.seconds.push(m.seconds)
          row.rss.push(m.peakRssMb)
          results.set(key, row)
          console.error(`${key}: ${m.seconds.toFixed(2)} s, ${m.peakRssMb} MB`)
        }
      }
    }
  } finally {
    await s3.stop()
  }
  const range = (xs: number[], digits: number) =>
    `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)} (${median(xs).toFixed(digits)})`
  console.log(`\n${mib} MiB uploaded, ${runs} runs each\n`)
  console.log('| checkout | database | wall s (median) | peak RSS MB (median) |')
  console.log('| --- | --- | ---: | ---: |')
  for (const [key, row] of results) {
    const [checkout, gb] = key.split(' | ')
    console.log(`| ${checkout} | ${gb} | ${range(row.seconds, 2)} | ${range(row.rss, 0)} |`)
  }
}
