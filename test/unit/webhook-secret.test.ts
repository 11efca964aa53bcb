// A webhook URL is its own credential: what a server echoes of it (its path, its token)
// is scrubbed from every message, while a database URL's path (its name) is not.
import { describe, expect, it } from 'vitest'
import { readAlertConfig } from '../../lib/core/alert-config.ts'
import { SettingsReader } from '../../lib/core/config.ts'
import { redact, registerWebhookSecret, Secret } from '../../lib/core/secret.ts'

const TOKEN = 'Xq9mZ2vT4kLr8wNb3yHc6dFa'
const SLACK = `https://hooks.slack.com/services/T0AB1CD2E/B0FG3HI4J/${TOKEN}`

describe('registerWebhookSecret', () => {
  it('scrubs the path a server echoes, and the token on its own', () => {
    registerWebhookSecret(new Secret(SLACK))
    const echoed = redact(`Slack answered 404: Cannot POST /services/T0AB1CD2E/B0FG3HI4J/${TOKEN}`)
    expect(echoed).not.toContain(TOKEN)
    expect(redact(`invalid token ${TOKEN}`)).not.toContain(TOKEN)
  })

  it('scrubs a heartbeat check UUID', () => {
    const uuid = '5b2f1c8e-9d4a-4e7b-8c3f-0a1b2c3d4e5f'
    registerWebhookSecret(new Secret(`https://hc-ping.com/${uuid}`))
    expect(redact(`GET /${uuid} answered 500`)).not.toContain(uuid)
  })

  it('leaves a database URL path alone: a secret of its own is only its password', () => {
    new Secret('postgresql://app:s3cret-pass@db.example.com:5432/inventory_primary_2026')
    expect(redact('database inventory_primary_2026 does not exist')).toContain('inventory_primary_2026')
  })

  it('is registered when the alert settings are read', () => {
    const token = 'Zr7pW1sQ5tYu2iOp9aSd3fGh'
    readAlertConfig(
      new SettingsReader({ SLACK_WEBHOOK_URL: `https://hooks.slack.com/services/T1/B2/${token}` }),
    )
    expect(redact(`echo: ${token}`)).not.toContain(token)
  })
})
