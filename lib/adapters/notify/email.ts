// E-mail over SMTP with nodemailer, from `SMTP_URL` (smtp:// with STARTTLS when the
// server offers it, smtps:// for TLS from the start). The URL's password stays inside.
import type { EmailMessage } from '../../alerts/messages.ts'
import { redact, type Secret } from '../../core/secret.ts'
import { ChannelError } from './retry.ts'

export interface EmailConfig {
  smtpUrl: Secret
  to: string[]
  from: string
}

// Codes nodemailer gives to failures that another attempt cannot fix.
const PERMANENT_CODES = new Set(['EAUTH', 'ECONFIG', 'EENVELOPE', 'EMESSAGE', 'ENOAUTH'])

export async function sendEmail(
  config: EmailConfig,
  message: EmailMessage,
  options: { signal: AbortSignal; timeoutMs: number },
): Promise<{ messageId: string }> {
  // Loaded when a message is sent: most runs send none.
  const { default: nodemailer } = await import('nodemailer')
  const transport = nodemailer.createTransport({
    url: config.smtpUrl.reveal(),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  })
  try {
    const info = await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: message.subject,
      text: message.text,
      signal: options.signal,
    })
    return { messageId: info.messageId }
  } catch (error) {
    const failure = error as { code?: string; responseCode?: number; message?: string }
    // A 4xx SMTP reply is temporary by definition (RFC 5321); 5xx and bad credentials are not.
    const permanent =
      (failure.code !== undefined &&
        PERMANENT_CODES.has(failure.code) &&
        !(failure.responseCode && failure.responseCode < 500)) ||
      (failure.responseCode !== undefined && failure.responseCode >= 500)
    const where = describeSmtp(config.smtpUrl)
    throw new ChannelError(
      redact(`SMTP ${where}: ${failure.code ? `${failure.code} ` : ''}${failure.message ?? String(error)}`),
      {
        retryable: !permanent,
        cause: error,
      },
    )
  } finally {
    transport.close()
  }
}

/** `smtp://host:port`, for messages: no user, no password. */
export function describeSmtp(smtpUrl: Secret): string {
  try {
    const url = new URL(smtpUrl.reveal())
    return `${url.protocol}//${url.host}`
  } catch {
    return 'server'
  }
}
