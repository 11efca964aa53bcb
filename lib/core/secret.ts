// Secrets travel as a type that never prints its value; only adapters unwrap it,
// and redaction scrubs anything that slipped into a message anyway. Pure.
import { inspect } from 'node:util'

const REDACTED = '**redacted**'

export class Secret {
  readonly #value: string

  constructor(value: string) {
    this.#value = value
    registerSecret(value)
  }

  /** Unwrap at the adapter that needs the value; nowhere else. */
  reveal(): string {
    return this.#value
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return REDACTED
  }
}

// Every secret value the process has seen, so that any text leaving the process
// (errors from libraries that echo a URL, child-process stderr) can be scrubbed.
const knownSecrets = new Set<string>()

export function registerSecret(value: string): void {
  if (value.length >= 4) knownSecrets.add(value)
  // A connection URL's password is a secret on its own too (a webhook's path: below).
  try {
    const url = new URL(value)
    if (url.password) knownSecrets.add(decodeURIComponent(url.password))
    if (url.password) knownSecrets.add(url.password)
  } catch {
    // not a URL
  }
}

/**
 * A webhook URL (Slack, a heartbeat) is its own credential: its path, and each long
 * segment of it (Slack's token, a check's UUID), are secrets on their own, so a server
 * that echoes the path it was sent (`Cannot POST /services/…`) prints none of it. Not for
 * every URL: a database URL's path is only its database's name.
 */
export function registerWebhookSecret(url: Secret): void {
  try {
    const path = new URL(url.reveal()).pathname
    if (path.length > 1) registerSecret(path)
    for (const segment of path.split('/')) if (segment.length >= 16) registerSecret(segment)
  } catch {
    // not a URL: the setting's check reports it
  }
}

/** Removes credentials from URLs and every registered secret value from text. */
export function redact(text: string): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)([^@\s/]*)@/gi, `$1${REDACTED}@`)
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED)
  }
  return out
}

/** A URL safe to print: credentials, query and (for webhooks) the path removed. */
export function describeUrl(value: string, options: { keepPath?: boolean } = {}): string {
  try {
    const url = new URL(value)
    const auth = url.username ? `${url.username}:${REDACTED}@` : ''
    const path = options.keepPath
      ? url.pathname.replace(/\/$/, '')
      : url.pathname === '/'
        ? ''
        : `/${REDACTED}`
    return `${url.protocol}//${auth}${url.host}${path}`
  } catch {
    return REDACTED
  }
}
