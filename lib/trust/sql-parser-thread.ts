// PostgreSQL's parser (libpg-query, WASM) on a thread of its own, opened for the script(s)
// of one step and closed after them: a WASM heap only grows (a large schema.sql leaves
// 50-70 MB behind), and a thread's is given back whole when it ends, before the restore
// loads (a backup's ends once schema.sql is marked). What the thread cannot give back is
// V8's optimizing tier recompiling the 1.1 MB module in the background, on the process's
// own threads, where it goes on after the thread has ended (30-50 MB kept on Node 20,
// about 500 MB on Node 24, and slower on two cores than the parse it speeds up): the
// module stays on V8's baseline compiler (bench/README.md, "Node 24").
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { setFlagsFromString } from 'node:v8'
import { Worker } from 'node:worker_threads'

/** A parse failure as the parser reports it: its message and the character it stopped at. */
export class SqlParseError extends Error {
  constructor(
    message: string,
    readonly cursorPosition: number | undefined,
  ) {
    super(message)
  }
}

export interface SqlParser {
  /** The parse tree of one piece of SQL (libpg-query's parseSync), or SqlParseError. */
  parse(
    piece: string,
  ): Promise<{ stmts?: { stmt: Record<string, unknown>; stmt_location?: number; stmt_len?: number }[] }>
  close(): Promise<void>
}

// CommonJS, evaluated by the thread: plain JavaScript, so it runs the same from the
// TypeScript sources, the bundled dist/ and a test runner, none of which it is part of.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads')
const parser = require(workerData.entry)
parser.loadModule().then(() => {
  parentPort.on('message', (piece) => {
    try {
      parentPort.postMessage({ tree: parser.parseSync(piece) })
    } catch (error) {
      parentPort.postMessage({ error: String(error && error.message), cursor: error && error.sqlDetails && error.sqlDetails.cursorPosition })
    }
  })
  parentPort.postMessage({ ready: true })
}, (error) => { throw error })
`

type Reply = { ready?: true; tree?: unknown; error?: string; cursor?: number }

/**
 * Starts the parser's thread and returns at once: its WASM module loads there (about
 * 0.2 s) while the caller goes on, and the first `parse` waits for it. The thread holds
 * the process open only while a parse is awaited, so one started early and never used
 * cannot keep a finished job alive.
 */
export function openSqlParser(): SqlParser {
  // Read when the module is compiled, in the thread; the only WebAssembly Lifeboat runs.
  // Not `--liftoff-only`, which implies both but cannot be set once node runs.
  setFlagsFromString('--no-wasm-tier-up')
  setFlagsFromString('--no-wasm-dynamic-tiering')
  const entry = createRequire(import.meta.url).resolve('libpg-query')
  // No inherited flags: the thread is plain CommonJS and needs no loader (`--import tsx`, `--input-type`).
  const worker = new Worker(THREAD, { eval: true, workerData: { entry }, execArgv: [] })
  worker.unref()
  // A thread that ends without a word (killed, out of memory) must fail the wait, not hang it.
  const ended = once(worker, 'exit').then(([code]) => {
    throw new Error(`the SQL parser's thread ended (exit code ${code})`)
  })
  ended.catch(() => undefined)
  const reply = async (): Promise<Reply> => {
    const [message] = (await Promise.race([once(worker, 'message'), ended])) as [Reply]
    return message
  }
  const ready = reply()
  ready.catch(() => undefined)
  return {
    async parse(piece) {
      worker.ref()
      try {
        await ready
        worker.postMessage(piece)
        const message = await reply()
        if (message.error !== undefined) throw new SqlParseError(message.error, message.cursor)
        return message.tree as Awaited<ReturnType<SqlParser['parse']>>
      } finally {
        worker.unref()
      }
    },
    async close() {
      await worker.terminate()
    },
  }
}
