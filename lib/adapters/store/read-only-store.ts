// A store opened for reading only: the copy a drill or DR test restores from while its
// records go to another store (a replica the reader role may only read). A write there
// is a bug, refused here before the bucket's policy has to.
import { LifeboatError } from '../../core/errors.ts'
import type { Store } from './store.ts'

export function readOnlyStore(store: Store): Store {
  const refuse = (what: string) => () =>
    Promise.reject(
      new LifeboatError('INTERNAL', `${what} in ${store.location}, which this run only reads from`),
    )
  return {
    location: store.location,
    locate: (key) => store.locate(key),
    get: (key, options) => store.get(key, options),
    head: (key) => store.head(key),
    list: (prefix) => store.list(prefix),
    ...(store.versions ? { versions: (prefix: string) => store.versions!(prefix) } : {}),
    put: refuse('a write'),
    delete: refuse('a delete'),
  }
}
