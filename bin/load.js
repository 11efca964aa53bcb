// Loads one of Lifeboat's entry points: the JavaScript built at install time (dist/, by
// `npm ci` through the `prepare` script), or, in a checkout whose sources changed since
// or without a build, the TypeScript sources through tsx.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Each entry point: its built file and its source. */
const ENTRIES = {
  lifeboat: { built: 'dist/lifeboat.js', source: 'lib/cli/lifeboat.ts' },
  runbook: { built: 'dist/runbook.js', source: 'lib/runbook/run-runbook.ts' },
}

/** The newest modification time of the TypeScript files under a folder. */
function newestSource(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

function isCurrent(built) {
  if (!existsSync(built)) return false
  const time = statSync(built).mtimeMs
  return ['lib', 'jobs'].every((dir) => !existsSync(`${root}${dir}`) || newestSource(`${root}${dir}`) <= time)
}

export async function load(name) {
  const entry = ENTRIES[name]
  if (isCurrent(`${root}${entry.built}`)) return import(pathToFileURL(`${root}${entry.built}`).href)
  const { register } = await import('tsx/esm/api')
  register()
  return import(pathToFileURL(`${root}${entry.source}`).href)
}
