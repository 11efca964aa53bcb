// What IAM sees of an S3 REST request (path style, as the tests send them): the action,
// the resource ARN and the condition keys our policies use. DeleteObjects is one request
// but one s3:DeleteObject authorization per key, so it maps to several.
// The mapping follows AWS's "Required permissions for Amazon S3 API operations".

export interface S3Authorization {
  /** The S3 API operation, for reading the records. */
  operation: string
  action: string
  /** `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`. */
  resource: string
  bucket: string
  /** Object key (full, with the store prefix); undefined for bucket-level actions. */
  key?: string
  context: Record<string, string | undefined>
}

export interface S3RequestLine {
  method: string
  /** Path and query, as received: `/bucket/key?uploadId=…`. */
  url: string
  headers: Record<string, string | string[] | undefined>
  /** The body, for the one request whose authorization depends on it (DeleteObjects). */
  body?: string
}

export function authorizationsOf(request: S3RequestLine): S3Authorization[] {
  const url = new URL(request.url, 'http://s3.local')
  const [bucket = '', ...rest] = url.pathname.slice(1).split('/')
  const key = rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined
  const q = url.searchParams
  const header = (name: string) => {
    const value = request.headers[name]
    return Array.isArray(value) ? value[0] : value
  }
  const base = { context: { 'aws:SecureTransport': 'true' } as Record<string, string | undefined> }
  const onBucket = (operation: string, action: string, context: Record<string, string | undefined> = {}) => ({
    operation,
    action,
    resource: `arn:aws:s3:::${bucket}`,
    bucket,
    context: { ...base.context, ...context },
  })
  const onObject = (
    operation: string,
    action: string,
    objectKey: string,
    context: Record<string, string | undefined> = {},
  ): S3Authorization => ({
    operation,
    action,
    resource: `arn:aws:s3:::${bucket}/${objectKey}`,
    bucket,
    key: objectKey,
    context: { ...base.context, ...context },
  })

  if (key === undefined || key === '') {
    if (request.method === 'GET' && q.has('versions'))
      return [onBucket('ListObjectVersions', 's3:ListBucketVersions', { 's3:prefix': q.get('prefix') ?? '' })]
    if (request.method === 'GET' && q.has('location'))
      return [onBucket('GetBucketLocation', 's3:GetBucketLocation')]
    if (request.method === 'GET')
      return [onBucket('ListObjectsV2', 's3:ListBucket', { 's3:prefix': q.get('prefix') ?? '' })]
    if (request.method === 'HEAD') return [onBucket('HeadBucket', 's3:ListBucket')]
    if (request.method === 'POST' && q.has('delete')) {
      const keys = [...(request.body ?? '').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]!))
      return keys.map((k) => onObject('DeleteObjects', 's3:DeleteObject', k))
    }
    return [onBucket(`${request.method} bucket`, 's3:Unknown')]
  }

  const conditional = {
    's3:if-none-match': header('if-none-match'),
    's3:if-match': header('if-match'),
  }
  switch (request.method) {
    case 'GET':
      return [
        onObject(
          q.has('versionId') ? 'GetObject (version)' : 'GetObject',
          q.has('versionId') ? 's3:GetObjectVersion' : 's3:GetObject',
          key,
        ),
      ]
    case 'HEAD':
      return [onObject('HeadObject', q.has('versionId') ? 's3:GetObjectVersion' : 's3:GetObject', key)]
    case 'PUT':
      if (q.has('uploadId'))
        return [onObject('UploadPart', 's3:PutObject', key, { 's3:ObjectCreationOperation': 'false' })]
      if (header('x-amz-copy-source'))
        return [
          onObject('CopyObject', 's3:PutObject', key, {
            ...conditional,
            's3:ObjectCreationOperation': 'true',
            's3:x-amz-copy-source': header('x-amz-copy-source'),
          }),
        ]
      return [
        onObject('PutObject', 's3:PutObject', key, { ...conditional, 's3:ObjectCreationOperation': 'true' }),
      ]
    case 'POST':
      if (q.has('uploads'))
        return [
          onObject('CreateMultipartUpload', 's3:PutObject', key, { 's3:ObjectCreationOperation': 'false' }),
        ]
      if (q.has('uploadId'))
        return [
          onObject('CompleteMultipartUpload', 's3:PutObject', key, {
            ...conditional,
            's3:ObjectCreationOperation': 'true',
          }),
        ]
      break
    case 'DELETE':
      if (q.has('uploadId')) return [onObject('AbortMultipartUpload', 's3:AbortMultipartUpload', key)]
      return [
        onObject('DeleteObject', q.has('versionId') ? 's3:DeleteObjectVersion' : 's3:DeleteObject', key),
      ]
  }
  return [onObject(`${request.method} object`, 's3:Unknown', key)]
}

/** `Credential=<access key id>/…` of a SigV4 Authorization header. */
export function accessKeyOf(authorization: string | undefined): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1]
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
}
