#!/usr/bin/env node
// Builds the commands into JavaScript once, at install time (`npm ci` runs the
// `prepare` script), so `lifeboat` starts without a TypeScript loader. One chunk per
// command: a command loads only its own code. Dependencies stay in node_modules.
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const outdir = process.argv[2] ?? join(root, 'dist')

await rm(outdir, { recursive: true, force: true })
await mkdir(outdir, { recursive: true })
const result = await build({
  absWorkingDir: root,
  entryPoints: { lifeboat: 'lib/cli/lifeboat.ts', runbook: 'lib/runbook/run-runbook.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  // Stack traces map back to the sources with NODE_OPTIONS=--enable-source-maps.
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
})
await writeFile(`${outdir}/package.json`, '{ "type": "module" }\n')
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0)
process.stdout.write(
  `lifeboat: built ${outdir} (${Object.keys(result.metafile.outputs).length} files, ${Math.round(bytes / 1024)} KiB)\n`,
)
