// Runs s3rver in its own process: it needs Node's legacy OpenSSL provider (it uses
// DES for ListObjectsV2 continuation tokens), which the tests themselves must not.
import S3rver from 's3rver'

const [directory, port, ...buckets] = process.argv.slice(2)
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
})
await server.run()
process.stdout.write('ready\n')
process.on('SIGTERM', () => server.close().then(() => process.exit(0)))
