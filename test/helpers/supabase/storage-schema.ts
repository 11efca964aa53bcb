// The `storage` schema of a new project as the Storage service leaves it: tables and
// functions owned by supabase_storage_admin, RLS on, the updated_at and delete-guard
// triggers, `storage.migrations` rows, and the grants to postgres and the API roles.
// A realistic subset of columns with the real names and types. README.md has sources.
import { storageMigrations } from './migration-history.ts'

function storageSchemaGrantsSql(): string {
  const kinds = ['TABLES', 'FUNCTIONS', 'SEQUENCES']
  const defaults = kinds.map(
    (kind) =>
      `ALTER DEFAULT PRIVILEGES FOR ROLE supabase_storage_admin IN SCHEMA storage GRANT ALL ON ${kind} TO postgres, anon, authenticated, service_role;`,
  )
  return `
    CREATE SCHEMA storage AUTHORIZATION supabase_admin;
    GRANT ALL ON SCHEMA storage TO supabase_storage_admin WITH GRANT OPTION;
    GRANT ALL ON SCHEMA storage TO dashboard_user;
    GRANT USAGE ON SCHEMA storage TO postgres WITH GRANT OPTION;
    GRANT USAGE ON SCHEMA storage TO anon, authenticated, service_role;
    ${defaults.join('\n    ')}
  `
}

function storageTablesSql(): string {
  return `
    CREATE TYPE storage.buckettype AS ENUM ('STANDARD', 'ANALYTICS', 'VECTOR');
    CREATE TABLE storage.migrations (
      id integer PRIMARY KEY,
      name varchar(100) NOT NULL UNIQUE,
      hash varchar(40) NOT NULL,
      executed_at timestamp DEFAULT current_timestamp
    );
    CREATE TABLE storage.buckets (
      id text NOT NULL PRIMARY KEY,
      name text NOT NULL,
      owner uuid,
      created_at timestamptz DEFAULT now(),
      updated_at timestamptz DEFAULT now(),
      public boolean DEFAULT false,
      avif_autodetection boolean DEFAULT false,
      file_size_limit bigint,
      allowed_mime_types text[],
      owner_id text,
      type storage.buckettype NOT NULL DEFAULT 'STANDARD'
    );
    CREATE UNIQUE INDEX bname ON storage.buckets (name);
    COMMENT ON COLUMN storage.buckets.owner IS 'Deprecated: owner_id replaces it.';
    -- objects.owner once referenced auth.users; Storage dropped that foreign key.
    CREATE TABLE storage.objects (
      id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
      bucket_id text REFERENCES storage.buckets (id),
      name text,
      owner uuid,
      created_at timestamptz DEFAULT now(),
      updated_at timestamptz DEFAULT now(),
      last_accessed_at timestamptz DEFAULT now(),
      metadata jsonb,
      path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
      version text,
      owner_id text,
      user_metadata jsonb
    );
    CREATE UNIQUE INDEX bucketid_objname ON storage.objects (bucket_id, name);
    CREATE INDEX name_prefix_search ON storage.objects (name text_pattern_ops);
    CREATE TABLE storage.s3_multipart_uploads (
      id text PRIMARY KEY,
      in_progress_size bigint NOT NULL DEFAULT 0,
      upload_signature text NOT NULL,
      bucket_id text NOT NULL REFERENCES storage.buckets (id),
      key text COLLATE "C" NOT NULL,
      version text NOT NULL,
      owner_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      user_metadata jsonb
    );
    CREATE TABLE storage.s3_multipart_uploads_parts (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      upload_id text NOT NULL REFERENCES storage.s3_multipart_uploads (id) ON DELETE CASCADE,
      size bigint NOT NULL DEFAULT 0,
      part_number integer NOT NULL,
      bucket_id text NOT NULL REFERENCES storage.buckets (id),
      key text COLLATE "C" NOT NULL,
      etag text NOT NULL,
      owner_id text,
      version text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `
}

/** Path helpers, the updated_at trigger, and the guard against DELETEs outside the API. */
function storageFunctionsSql(): string {
  return `
    CREATE FUNCTION storage.foldername(name text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $fn$
      SELECT (string_to_array(name, '/'))[1:cardinality(string_to_array(name, '/')) - 1]
    $fn$;
    CREATE FUNCTION storage.filename(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
      SELECT (string_to_array(name, '/'))[cardinality(string_to_array(name, '/'))]
    $fn$;
    CREATE FUNCTION storage.extension(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $fn$
      SELECT reverse(split_part(reverse(storage.filename(name)), '.', 1))
    $fn$;
    CREATE FUNCTION storage.update_updated_at_column() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      NEW.updated_at := now();
      RETURN NEW;
    END $fn$;
    CREATE TRIGGER update_objects_updated_at BEFORE UPDATE ON storage.objects
      FOR EACH ROW EXECUTE FUNCTION storage.update_updated_at_column();
    -- Storage refuses DELETE statements unless the API sets storage.allow_delete_query.
    CREATE FUNCTION storage.protect_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF coalesce(current_setting('storage.allow_delete_query', true), 'false') <> 'true' THEN
        RAISE EXCEPTION 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
          USING ERRCODE = '42501';
      END IF;
      RETURN NULL;
    END $fn$;
    CREATE TRIGGER protect_buckets_delete BEFORE DELETE ON storage.buckets
      FOR EACH STATEMENT EXECUTE FUNCTION storage.protect_delete();
    CREATE TRIGGER protect_objects_delete BEFORE DELETE ON storage.objects
      FOR EACH STATEMENT EXECUTE FUNCTION storage.protect_delete();
  `
}

function storageMigrationRowsSql(): string {
  const rows = storageMigrations()
    .map((m) => `(${m.id}, '${m.name}', '${m.hash}', '2025-01-01 00:00:00')`)
    .join(',\n      ')
  return `INSERT INTO storage.migrations (id, name, hash, executed_at) VALUES\n      ${rows};`
}

/** The whole `storage` set-up, run as the bootstrap superuser. */
export function storageSchemaSql(): string {
  return `
    ${storageSchemaGrantsSql()}
    SET ROLE supabase_storage_admin;
    ${storageTablesSql()}
    ${storageFunctionsSql()}
    ${storageMigrationRowsSql()}
    ALTER TABLE storage.migrations ENABLE ROW LEVEL SECURITY;
    ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
    ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
    ALTER TABLE storage.s3_multipart_uploads ENABLE ROW LEVEL SECURITY;
    ALTER TABLE storage.s3_multipart_uploads_parts ENABLE ROW LEVEL SECURITY;
    GRANT ALL ON storage.buckets, storage.objects TO postgres WITH GRANT OPTION;
    RESET ROLE;
    -- The image keeps everyone but the service from writing Storage's migration history.
    REVOKE ALL ON storage.migrations FROM anon, authenticated, service_role, postgres;
    GRANT SELECT ON storage.migrations TO postgres;
    REVOKE CREATE ON SCHEMA storage FROM postgres;
  `
}
