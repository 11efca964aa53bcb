// A stand-in for Supabase's `storage` schema (the columns of storage.buckets and
// storage.objects that Lifeboat reads and writes, as Supabase's migrations define them)
// and for what Supabase Storage does to it: create the row when a bucket or object is
// created through the S3 endpoint, remove it when the object is deleted.
import type { Readable } from 'node:stream'
import type pg from 'pg'
import type { PutStorageObject, StorageClient } from '../../lib/storage/client.ts'

export const STORAGE_SCHEMA_SQL = `
  CREATE SCHEMA storage;
  CREATE TYPE storage.buckettype AS ENUM ('STANDARD', 'ANALYTICS', 'VECTOR');
  CREATE TABLE storage.buckets (
    id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    owner uuid,
    owner_id text,
    public boolean DEFAULT false,
    file_size_limit bigint,
    allowed_mime_types text[],
    type storage.buckettype NOT NULL DEFAULT 'STANDARD',
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
  );
  CREATE TABLE storage.objects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bucket_id text REFERENCES storage.buckets (id),
    name text,
    owner uuid,
    owner_id text,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    last_accessed_at timestamptz DEFAULT now(),
    metadata jsonb,
    path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
    version text,
    user_metadata jsonb,
    UNIQUE (bucket_id, name)
  );
`

/** Storage's S3 endpoint as Supabase runs it: every write also maintains the rows. */
export class SupabaseLikeStorage implements StorageClient {
  readonly location: string
  readonly #inner: StorageClient
  readonly #db: pg.ClientBase

  constructor(inner: StorageClient, db: pg.ClientBase) {
    this.#inner = inner
    this.#db = db
    this.location = inner.location
  }

  listBuckets(signal?: AbortSignal) {
    return this.#inner.listBuckets(signal)
  }

  listObjects(bucket: string, signal?: AbortSignal) {
    return this.#inner.listObjects(bucket, signal)
  }

  headObject(bucket: string, name: string, signal?: AbortSignal) {
    return this.#inner.headObject(bucket, name, signal)
  }

  getObject(bucket: string, name: string, signal?: AbortSignal) {
    return this.#inner.getObject(bucket, name, signal)
  }

  async createBucket(bucket: string, signal?: AbortSignal) {
    await this.#inner.createBucket(bucket, signal)
    await this.#db.query('INSERT INTO storage.buckets (id, name) VALUES ($1, $1)', [bucket])
  }

  async putObject(
    bucket: string,
    name: string,
    body: Readable,
    meta: PutStorageObject,
    signal?: AbortSignal,
  ) {
    await this.#inner.putObject(bucket, name, body, meta, signal)
    const head = await this.#inner.headObject(bucket, name, signal)
    await this.#db.query(
      `INSERT INTO storage.objects (bucket_id, name, metadata, user_metadata) VALUES ($1, $2, $3, $4)
       ON CONFLICT (bucket_id, name) DO UPDATE SET metadata = excluded.metadata, user_metadata = excluded.user_metadata`,
      [
        bucket,
        name,
        { mimetype: meta.contentType, cacheControl: meta.cacheControl, size: head?.size, eTag: head?.etag },
        meta.userMetadata,
      ],
    )
  }

  async deleteBucket(bucket: string, signal?: AbortSignal) {
    await this.#inner.deleteBucket(bucket, signal)
    await this.#db.query('DELETE FROM storage.buckets WHERE id = $1', [bucket])
  }

  async deleteObjects(bucket: string, names: readonly string[], signal?: AbortSignal) {
    await this.#inner.deleteObjects(bucket, names, signal)
    await this.#db.query('DELETE FROM storage.objects WHERE bucket_id = $1 AND name = ANY($2)', [
      bucket,
      names,
    ])
  }
}
