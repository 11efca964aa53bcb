// Storage's own tables (`storage.buckets`, `storage.objects`) as an optional input: on
// the source, read inside the backup's snapshot for bucket settings, owners and user
// metadata S3 cannot carry; on the target, to put them back and compare rows with files.
// Columns differ across Supabase versions, so rows are read through to_jsonb.
import type pg from 'pg'
import { queryError } from '../adapters/postgres/connection.ts'
import type { BucketSettings } from './manifest.ts'

export interface CatalogObject {
  bucket: string
  name: string
  ownerId: string | null
  userMetadata: Record<string, unknown> | null
  contentType: string | null
  cacheControl: string | null
}

export interface StorageCatalog {
  buckets: Map<string, BucketSettings>
  /** By `bucket/name`. */
  objects: Map<string, CatalogObject>
}

const PAGE = 10_000

/** Undefined when the database has no `storage` schema (plain PostgreSQL). */
export async function readStorageCatalog(
  client: pg.ClientBase,
  buckets: readonly string[],
): Promise<StorageCatalog | undefined> {
  if (!(await hasStorageTables(client))) return undefined
  const catalog: StorageCatalog = { buckets: await readBucketSettings(client), objects: new Map() }
  let after: [string, string] = ['', '']
  for (;;) {
    const { rows } = await client
      .query<{ bucket: string; name: string; row: Record<string, unknown> }>(
        `SELECT o.bucket_id AS bucket, o.name, to_jsonb(o) - 'path_tokens' AS row
           FROM storage.objects o
          WHERE o.bucket_id = ANY($1::text[])
            AND (o.bucket_id COLLATE "C", o.name COLLATE "C") > ($2::text COLLATE "C", $3::text COLLATE "C")
          ORDER BY o.bucket_id COLLATE "C", o.name COLLATE "C" LIMIT ${PAGE}`,
        [buckets, after[0], after[1]],
      )
      .catch((e) => {
        throw queryError(e, 'reading storage.objects')
      })
    for (const r of rows) {
      const metadata = (r.row.metadata ?? {}) as Record<string, unknown>
      catalog.objects.set(`${r.bucket}/${r.name}`, {
        bucket: r.bucket,
        name: r.name,
        ownerId: textOrNull(r.row.owner_id ?? r.row.owner),
        userMetadata: (r.row.user_metadata as Record<string, unknown> | null) ?? null,
        contentType: textOrNull(metadata.mimetype),
        cacheControl: textOrNull(metadata.cacheControl),
      })
    }
    if (rows.length < PAGE) return catalog
    after = [rows.at(-1)!.bucket, rows.at(-1)!.name]
  }
}

export async function hasStorageTables(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client
    .query<{ ok: boolean }>(
      `SELECT to_regclass('storage.buckets') IS NOT NULL AND to_regclass('storage.objects') IS NOT NULL AS ok`,
    )
    .catch((e) => {
      throw queryError(e, 'looking for the storage schema')
    })
  return rows[0]?.ok === true
}

async function readBucketSettings(client: pg.ClientBase): Promise<Map<string, BucketSettings>> {
  const { rows } = await client
    .query<{ row: Record<string, unknown> }>('SELECT to_jsonb(b) AS row FROM storage.buckets b')
    .catch((e) => {
      throw queryError(e, 'reading storage.buckets')
    })
  return new Map(
    rows.map(({ row }) => [
      String(row.id),
      {
        public: row.public === true,
        fileSizeLimit: row.file_size_limit == null ? null : Number(row.file_size_limit),
        allowedMimeTypes: Array.isArray(row.allowed_mime_types) ? (row.allowed_mime_types as string[]) : null,
        type: textOrNull(row.type),
        ownerId: textOrNull(row.owner_id ?? row.owner),
      },
    ]),
  )
}

/** `bucket/name` of every `storage.objects` row in the buckets. */
export async function listCatalogRows(
  client: pg.ClientBase,
  buckets: readonly string[],
): Promise<{ bucket: string; name: string }[]> {
  const { rows } = await client
    .query<{ bucket: string; name: string }>(
      'SELECT bucket_id AS bucket, name FROM storage.objects WHERE bucket_id = ANY($1::text[])',
      [buckets],
    )
    .catch((e) => {
      throw queryError(e, 'listing storage.objects')
    })
  return rows
}

/**
 * Sets what S3 could not: a restored bucket's public flag, size limit and MIME types.
 * Applied after the objects are uploaded, so limits tightened since cannot refuse them.
 */
export async function applyBucketSettings(
  client: pg.ClientBase,
  bucket: string,
  s: BucketSettings,
): Promise<boolean> {
  const result = await client
    .query(
      'UPDATE storage.buckets SET public = $2, file_size_limit = $3, allowed_mime_types = $4 WHERE id = $1',
      [bucket, s.public, s.fileSizeLimit, s.allowedMimeTypes],
    )
    .catch((e) => {
      throw queryError(e, `setting bucket ${bucket}'s settings in storage.buckets`)
    })
  return result.rowCount === 1
}

/** Puts owners and exact user metadata back on the rows the uploads created; returns rows updated. */
export async function applyObjectCatalog(
  client: pg.ClientBase,
  objects: readonly CatalogObject[],
): Promise<number> {
  const columns = await objectColumns(client)
  const sets = [
    columns.has('owner_id') ? 'owner_id = v.owner_id' : undefined,
    columns.has('owner')
      ? `owner = CASE WHEN v.owner_id ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' THEN v.owner_id::uuid END`
      : undefined,
    columns.has('user_metadata') ? 'user_metadata = v.meta' : undefined,
  ].filter(Boolean)
  if (sets.length === 0) return 0
  let updated = 0
  for (let i = 0; i < objects.length; i += 1000) {
    const batch = objects.slice(i, i + 1000)
    const result = await client
      .query(
        `UPDATE storage.objects o SET ${sets.join(', ')}
           FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) AS v(bucket, name, owner_id, meta)
          WHERE o.bucket_id = v.bucket AND o.name = v.name`,
        [
          batch.map((o) => o.bucket),
          batch.map((o) => o.name),
          batch.map((o) => o.ownerId),
          batch.map((o) => (o.userMetadata === null ? null : JSON.stringify(o.userMetadata))),
        ],
      )
      .catch((e) => {
        throw queryError(e, 'setting owners and user metadata in storage.objects')
      })
    updated += result.rowCount ?? 0
  }
  return updated
}

async function objectColumns(client: pg.ClientBase): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute WHERE attrelid = 'storage.objects'::regclass AND attnum > 0 AND NOT attisdropped`,
  )
  return new Set(rows.map((r) => r.name))
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}
