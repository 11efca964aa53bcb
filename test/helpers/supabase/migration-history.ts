// The migration bookkeeping rows Supabase's services leave in a project: Auth
// (GoTrue) records one `auth.schema_migrations.version` per applied migration, Storage
// one `storage.migrations (id, name, hash)` row. Identifiers from the services' own
// migration folders (README.md); the "newer" entries are ours, for compatibility tests.
import { createHash } from 'node:crypto'

/** Versions the image's init script records before GoTrue runs. */
const AUTH_BOOTSTRAP_VERSIONS =
  '20171026211738 20171026211808 20171026211834 20180103212743 20180108183307 20180119214651 20180125194653'

/** GoTrue's migration versions (file-name prefixes of supabase/auth migrations/), oldest first. */
const AUTH_SERVICE_VERSIONS = `00 20210710035447 20210722035447 20210730183235 20210909172000 20210927181326
  20211122151130 20211124214934 20211202183645 20220114185221 20220114185340 20220224000811 20220323170000
  20220429102000 20220531120530 20220614074223 20220811173540 20221003041349 20221003041400 20221011041400
  20221020193600 20221021073300 20221021082433 20221027105023 20221114143122 20221114143410 20221125140132
  20221208132122 20221215195500 20221215195800 20221215195900 20230116124310 20230116124412 20230131181311
  20230322519590 20230402418590 20230411005111 20230508135423 20230523124323 20230818113222 20230914180801
  20231027141322 20231114161723 20231117164230 20240115144230 20240214120130 20240306115329 20240314092811
  20240427152123 20240612123726 20240729123726 20240802193726 20240806073726 20241009103726 20250717082212
  20250731150234 20250804100000 20250901200500 20250903112500 20250904133000 20250925093508 20251007112900
  20251104100000 20251111201300 20251201000000 20260115000000 20260121000000 20260219120000 20260302000000
  20260625000000`

/**
 * The "older" project predates `auth.users.is_anonymous` (added by this migration) and
 * everything after it, such as `auth.one_time_tokens`.
 */
export const AUTH_IS_ANONYMOUS_VERSION = '20240214120130'

/** Ours, not GoTrue's: the migration a "newer" Auth would have applied. */
export const AUTH_NEWER_VERSION = '20270115000000'

export type AuthLevel = 'older' | 'current' | 'newer'

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '')
}

/** The rows `auth.schema_migrations` holds at each level, oldest first. */
export function authMigrationVersions(level: AuthLevel): string[] {
  const service = words(AUTH_SERVICE_VERSIONS)
  const applied = level === 'older' ? service.slice(0, service.indexOf(AUTH_IS_ANONYMOUS_VERSION)) : service
  return [...words(AUTH_BOOTSTRAP_VERSIONS), ...applied, ...(level === 'newer' ? [AUTH_NEWER_VERSION] : [])]
}

/** Storage's migration names in id order (supabase/storage DBMigration, ids 0…63). */
const STORAGE_MIGRATION_NAMES = `create-migrations-table initialmigration storage-schema pathtoken-column
  add-migrations-rls add-size-functions change-column-name-in-get-size add-rls-to-buckets add-public-to-buckets
  fix-search-function search-files-search-function add-trigger-to-auto-update-updated_at-column
  add-automatic-avif-detection-flag add-bucket-custom-limits use-bytes-for-max-size
  add-can-insert-object-function add-version drop-owner-foreign-key add_owner_id_column_deprecate_owner
  alter-default-value-objects-id list-objects-with-delimiter s3-multipart-uploads s3-multipart-uploads-big-ints
  optimize-search-function operation-function custom-metadata objects-prefixes search-v2
  object-bucket-name-sorting create-prefixes update-object-levels objects-level-index
  backward-compatible-index-on-objects backward-compatible-index-on-prefixes optimize-search-function-v1
  add-insert-trigger-prefixes optimise-existing-functions add-bucket-name-length-trigger
  iceberg-catalog-flag-on-buckets add-search-v2-sort-support fix-prefix-race-conditions-optimized
  add-object-level-update-trigger rollback-prefix-triggers fix-object-level vector-bucket-type vector-buckets
  buckets-objects-grants iceberg-table-metadata iceberg-catalog-ids buckets-objects-grants-postgres
  search-v2-optimised index-backward-compatible-search drop-not-used-indexes-and-functions
  drop-index-lower-name drop-index-object-level prevent-direct-deletes fix-optimized-search-function
  s3-multipart-uploads-metadata operation-ergonomics drop-unused-functions optimize-existing-functions-again
  mark-filename-immutable object-versioning-core fix-search-name-relative-to-prefix`

export interface StorageMigration {
  id: number
  name: string
  /** 40 hex digits, as the service stores (ours: sha1 of the name; theirs hashes the file). */
  hash: string
}

export function storageMigrations(): StorageMigration[] {
  return words(STORAGE_MIGRATION_NAMES).map((name, id) => ({
    id,
    name,
    hash: createHash('sha1').update(name).digest('hex'),
  }))
}
