#!/usr/bin/env node
// lifeboat <command> [options]: Lifeboat's command line (lifeboat --help lists the commands).
import { load } from './load.js'

const { runLifeboat } = await load('lifeboat')
await runLifeboat(process.argv.slice(2))
