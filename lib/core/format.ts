// How sizes and durations are written for people, the same in the terminal, Slack,
// e-mail and reports: binary units labelled as such (KiB, MiB, GiB). Pure.

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`
}

/** `1 table`, `3 tables`, `1,234 rows`: a count with its noun, singular when it is one. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${formatCount(count)} ${count === 1 ? noun : nouns}`
}

/**
 * `1,234,567` (`toLocaleString('en')`'s digits), with at most `fractionDigits` decimals,
 * trailing zeros dropped. Written out because the first `toLocaleString` or `Intl` call
 * maps about 5 MB of ICU's locale data into the process for the rest of its life: a
 * twentieth of a backup's memory, for commas (bench/README.md).
 */
export function formatCount(value: number, fractionDigits = 0): string {
  if (!Number.isFinite(value)) return String(value)
  const [whole = '', fraction = ''] = Math.abs(value).toFixed(fractionDigits).split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',')
  const decimals = fraction.replace(/0+$/, '')
  const sign = value < 0 && /[1-9]/.test(whole + decimals) ? '-' : ''
  return `${sign}${grouped}${decimals ? `.${decimals}` : ''}`
}
