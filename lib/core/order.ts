// Strings in code-unit order, the same on every machine. The keys we sort (ISO times,
// backup ids, SQL names) need no locale, and `localeCompare` would map ICU's collation
// data (about 2 MB) into the process for the rest of its life (bench/README.md).

export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
