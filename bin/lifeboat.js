#!/usr/bin/env node
// lifeboat <command> [options]: runs the JavaScript built at install time (dist/, by
// `npm ci` through the `prepare` script); in a checkout whose sources changed since,
// or without a build, it runs the TypeScript sources through tsx instead.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const bundle = `${root}dist/lifeboat.js`

/** The newest modification time under the source folders (a checkout being edited). */
function newestSource(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

function bundleIsCurrent() {
  if (!existsSync(bundle)) return false
  const built = statSync(bundle).mtimeMs
  return ['lib', 'jobs'].every(
    (dir) => !existsSync(`${root}${dir}`) || newestSource(`${root}${dir}`) <= built,
  )
}

let entry = bundle
if (!bundleIsCurrent()) {
  const { register } = await import('tsx/esm/api')
  register()
  entry = `${root}lib/cli/lifeboat.ts`
}
const { runLifeboat } = await import(pathToFileURL(entry).href)
await runLifeboat(process.argv.slice(2))
