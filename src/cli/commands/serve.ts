/**
 * `mt serve`: a trained run behind an HTTP JSON API and a web page (docs/serve.md). The model is
 * loaded once with the translate stage's TranslatorSession; concurrent requests are batched.
 * SIGINT/SIGTERM stop accepting, finish the requests in flight, and exit 130/143 as `mt train`
 * does after a clean stop.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { BackendName } from '../../backend/names.ts';
import { MAX_BEAM } from '../../config/sections/decode.ts';
import { UserError } from '../../errors.ts';
import { LAYOUT, RunDir } from '../../run/rundir.ts';
import { loggerFor, positiveInt, positiveIntUpTo, type GlobalOptions } from '../common.ts';

interface ServeFlags {
  run?: string;
  checkpoint?: string;
  average?: number;
  host: string;
  port: number;
  token?: string;
  auth: boolean;
  cors?: string;
  batchWindow: number;
  batchSentences: number;
  batchTokens: number;
  maxQueue: number;
  maxBody: number;
  maxSentences: number;
  maxChars: number;
  maxBeam: number;
  maxLen: number;
  headersTimeout: number;
  requestTimeout: number;
  threads: number;
}

/** commander parser for a count that may be 0. */
function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a whole number from 0 to 65535');
  return n;
}

/** Exit codes after a signal, as mt train's: 128 + the signal's number. */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;

/** The exit code of the signal that is stopping the server, once one came. */
let stopping: number | undefined;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a trained run over HTTP: a JSON translation API (batched across requests) and a page with an attention heatmap')
    .requiredOption('-r, --run <dir>', 'trained run directory to serve')
    .option('--checkpoint <which>', "'best', 'last' or a checkpoint folder (default: best if validated, else last)")
    .option('--average <k>', 'serve the average of the last k checkpoints', positiveInt)
    .option('--host <addr>', 'address to bind; anything but loopback needs --token or --no-auth', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port, printed at start)', port, 8080)
    .option('--token <token>', 'require "Authorization: Bearer TOKEN" on /v1/translate and /v1/model (default: $MT_SERVE_TOKEN)')
    .option('--no-auth', 'allow binding beyond loopback without a token')
    .option('--cors <origin>', 'allow this one origin (e.g. https://example.org) to call the API from its pages (default: no CORS headers)')
    .option('--batch-window <ms>', 'how long a request waits for others with the same decode options to share its batch', wholeNumber, 10)
    .option('--batch-sentences <n>', 'a batch is decoded at once when it holds this many sentences', positiveInt, 64)
    .option('--batch-tokens <n>', '… or this many source subword tokens', positiveInt, 4096)
    .option('--max-queue <n>', 'most sentences waiting for a batch; more are refused with 503 and Retry-After', positiveInt, 1024)
    .option('--max-body <bytes>', 'largest request body (413 beyond)', positiveInt, 1024 * 1024)
    .option('--max-sentences <n>', 'most sentences per request (413 beyond)', positiveInt, 64)
    .option('--max-chars <n>', 'most characters per sentence (413 beyond)', positiveInt, 2000)
    .option('--max-beam <k>', `largest beam (and n-best list) a request may ask for, 1 to ${MAX_BEAM}`, positiveIntUpTo(MAX_BEAM), 10)
    .option('--max-len <n>', 'largest max_len a request may ask for (target subword tokens)', positiveInt, 512)
    .option('--headers-timeout <ms>', "a client must send its request's headers within this time (408 after)", positiveInt, 10_000)
    .option('--request-timeout <ms>', 'a client must send its whole request within this time (408 after)', positiveInt, 30_000)
    .option('--threads <n>', 'decoding worker threads on wasm/cpu (1: decode on the server thread; batches are split over the workers)', positiveIntUpTo(64), 1)
    .action(async (flags: ServeFlags, cmd: Command) => {
      const log = loggerFor(cmd);
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const token = flags.token ?? (process.env.MT_SERVE_TOKEN || undefined);
      const { isLoopback, startServer, DEFAULT_SERVE_OPTIONS } = await import('../../serve/server.ts');
      if (!isLoopback(flags.host) && token === undefined && flags.auth) {
        throw new UserError(`--host ${flags.host}: serving beyond loopback needs --token TOKEN (or $MT_SERVE_TOKEN), or --no-auth to serve without one`);
      }
      if (flags.requestTimeout < flags.headersTimeout) throw new UserError('--request-timeout cannot be shorter than --headers-timeout');
      const run = RunDir.open(flags.run!);
      log.toFile(run.path(LAYOUT.logs, 'serve.log'));
      const { TranslatorSession } = await import('../../decode/session.ts');
      const session = await TranslatorSession.open(run, {
        checkpoint: flags.checkpoint,
        average: flags.average,
        backend: global.backend && global.backend !== 'auto' ? (global.backend as BackendName) : undefined,
        warn: (m) => log.warn(m),
      });
      let handle;
      try {
        await session.useThreads(flags.threads);
        handle = await startServer(session, run, {
          ...DEFAULT_SERVE_OPTIONS,
          host: flags.host,
          port: flags.port,
          token,
          cors: flags.cors,
          maxBodyBytes: flags.maxBody,
          limits: { maxSentences: flags.maxSentences, maxChars: flags.maxChars, maxBeam: flags.maxBeam, maxLen: flags.maxLen },
          batching: { windowMs: flags.batchWindow, maxSentences: flags.batchSentences, maxTokens: flags.batchTokens, maxQueue: flags.maxQueue },
          headersTimeoutMs: flags.headersTimeout,
          requestTimeoutMs: flags.requestTimeout,
          log,
        });
      } catch (e) {
        await session.close();
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new UserError(`--port ${flags.port}: already in use on ${flags.host} (--port 0 picks a free one)`);
        if (code === 'EACCES') throw new UserError(`--port ${flags.port}: not allowed to bind on ${flags.host}`);
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UserError(`--host ${flags.host}: no such local address`);
        throw e;
      }
      const server = handle;
      log.info(`serving ${run.root} (${run.config.model.type}, ${session.translator.source}) on ${server.url}/` + (session.threads > 1 ? ` with ${session.threads} decoding threads` : ''));
      log.result({ url: server.url, port: server.port, run: run.root, weights: session.translator.source }, `listening on ${server.url}/`);
      if (!isLoopback(flags.host) && token === undefined) log.warn(`serving on ${flags.host} without a token (--no-auth): anyone who can reach it can use it`);

      // The first SIGINT/SIGTERM stops accepting and finishes what is in flight; a second quits at once.
      const exitCode = await new Promise<number>((resolve) => {
        for (const [name, code] of Object.entries(STOP_SIGNALS)) {
          process.on(name, () => {
            if (stopping !== undefined) process.exit(stopping);
            stopping = code;
            log.info(`${name}: no new requests; finishing the ${server.batcher.queued} queued sentences and requests in flight (${name} again to quit at once)`);
            resolve(code);
          });
        }
      });
      await server.close();
      log.info('stopped');
      process.exit(exitCode);
    });
}
