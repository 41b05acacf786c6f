/**
 * The HTTP server of `mt serve`: Node's `http` and a four-route router (docs/serve.md says why
 * no framework). Requests are checked (body size, JSON, fields, limits, token) before they reach
 * the batcher, which decodes them with the translate stage's TranslatorSession; every error is
 * `{error: {code, message}}` with its 4xx/5xx status. `close()` stops accepting, answers what
 * is in flight, and frees the model.
 */
import { timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecodeConfig } from '../config/schema.ts';
import type { TranslatorSession } from '../decode/session.ts';
import { sourceLimit } from '../decode/translate.ts';
import { errorMessage } from '../errors.ts';
import { modelFacts } from '../models/facts.ts';
import type { RunDir } from '../run/rundir.ts';
import {
  ApiError,
  ATTENTION_KIND,
  parseTranslateRequest,
  timingJson,
  translationJson,
  type ErrorJson,
  type HealthJson,
  type RequestLimits,
  type TranslateResponseJson,
} from './api.ts';
import { Batcher, QueueFullError, type BatcherOptions } from './batcher.ts';

export interface ServeOptions {
  host: string;
  port: number;
  /** Bearer token required on /v1/translate and /v1/model (none: no authentication). */
  token?: string;
  /** The one origin allowed to call the API from another site's page (none: no CORS headers). */
  cors?: string;
  /** Largest request body (bytes). */
  maxBodyBytes: number;
  limits: RequestLimits;
  batching: BatcherOptions;
  /** A client must have sent its headers within this many ms, and its whole request within requestTimeoutMs. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Seconds a client is told to wait (Retry-After) when the queue is full. */
  retryAfterS: number;
  /** Whether close() also closes the session (default true; false: the caller keeps using it). */
  closeSession?: boolean;
  /** Logs one line per request (debug) and the server's warnings. */
  log?: { debug(msg: string): void; warn(msg: string): void };
}

export const DEFAULT_SERVE_OPTIONS: Omit<ServeOptions, 'host' | 'port'> = {
  maxBodyBytes: 1024 * 1024,
  limits: { maxSentences: 64, maxChars: 2000, maxBeam: 10, maxLen: 512 },
  batching: { windowMs: 10, maxSentences: 64, maxTokens: 4096, maxQueue: 1024 },
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  retryAfterS: 1,
};

export interface ServeHandle {
  /** http://host:port (the port the system chose for port 0). */
  url: string;
  port: number;
  server: http.Server;
  batcher: Batcher;
  /** Stop accepting, finish the requests in flight, free the model. */
  close(): Promise<void>;
}

/** The page at `/`, shipped beside this file: the only static file served. */
const PAGE_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page.html');

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // The page needs nothing from anywhere but this server.
  'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Routes and the methods each allows (anything else: 404, or 405 with Allow). */
const ROUTES: Record<string, string[]> = {
  '/': ['GET', 'HEAD'],
  '/index.html': ['GET', 'HEAD'],
  '/v1/health': ['GET', 'HEAD'],
  '/v1/model': ['GET', 'HEAD'],
  '/v1/translate': ['POST'],
};

/** Whether `host` binds loopback only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What `GET /v1/model` answers: modelInfo and this server's limits. */
export type ModelJson = ReturnType<typeof modelInfo> & {
  limits: { max_body_bytes: number; max_sentences: number; max_chars: number; max_beam: number; max_len: number };
};

/** What GET /v1/model answers: the model, its languages and weights, the run's last eval. */
function modelInfo(session: TranslatorSession, run: RunDir) {
  const { translator } = session;
  const config = run.config;
  let manifest: ReturnType<RunDir['readManifest']> | undefined;
  try {
    manifest = run.readManifest();
  } catch {
    manifest = undefined;
  }
  const evalStage = manifest?.stages.eval as { split?: string; bleu?: number | null; chrf?: number | null; finished_at?: string } | undefined;
  return {
    family: config.model.type,
    parameters: translator.model.parameterCount(),
    languages: { source: config.data.src_lang, target: config.data.tgt_lang },
    weights: translator.source,
    checkpoint: translator.checkpoint ? { name: path.basename(translator.checkpoint.path), step: translator.checkpoint.step, why: translator.checkpoint.why } : null,
    step: translator.step,
    config_hash: manifest?.config_hash ?? null,
    identity_hash: manifest?.identity_hash ?? null,
    eval: evalStage ? { split: evalStage.split ?? null, bleu: evalStage.bleu ?? null, chrf: evalStage.chrf ?? null, finished_at: evalStage.finished_at ?? null } : null,
    attention: modelFacts(config.model).hasAttention ? (ATTENTION_KIND[config.model.type] ?? 'attention weights') : null,
    vocab: { source: translator.subwords.src.vocabSize, target: translator.subwords.tgt.vocabSize },
    decode: {
      beam: config.decode.beam_size,
      nbest: config.decode.nbest,
      alpha: config.decode.length_penalty,
      max_len_a: config.decode.max_len_a,
      max_len_b: config.decode.max_len_b,
      max_input_len: sourceLimit(config.model, config.decode),
    },
    backend: session.backend,
  };
}

/** Start serving `session` (opened on `run`); resolves once listening. */
export async function startServer(session: TranslatorSession, run: RunDir, opts: ServeOptions): Promise<ServeHandle> {
  const page = fs.readFileSync(PAGE_FILE);
  const { translator } = session;
  const hasAttention = modelFacts(run.config.model).hasAttention;
  const defaults: DecodeConfig = run.config.decode;
  const model = modelInfo(session, run);
  const batcher = new Batcher((sentences, decode, o) => session.translate(sentences, decode, { attention: o.attention, attentionHeads: o.attention, warn: (m) => opts.log?.debug(m) }), opts.batching);
  const started = Date.now();
  let stopping = false;
  let inFlight = 0;
  let idle: (() => void)[] = [];

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...(stopping ? { connection: 'close' } : {}),
      ...headers,
    });
    res.end(text);
  };
  const sendError = (res: http.ServerResponse, e: ApiError): void => send(res, e.status, { error: { code: e.code, message: e.message } } satisfies ErrorJson, e.headers);

  const readBody = (req: http.IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const tooLarge = () => new ApiError(413, 'body_too_large', `request body over this server's limit of ${opts.maxBodyBytes} bytes`, { connection: 'close' });
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > opts.maxBodyBytes) return reject(tooLarge());
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on('data', (chunk: Buffer) => {
        if (failed) return;
        size += chunk.length;
        if (size > opts.maxBodyBytes) {
          failed = true;
          reject(tooLarge());
        } else chunks.push(chunk);
      });
      req.on('end', () => failed || resolve(Buffer.concat(chunks)));
      req.on('error', (e) => failed || reject(e));
    });

  const authorize = (req: http.IncomingMessage): void => {
    if (opts.token === undefined) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m || !sameSecret(m[1]!.trim(), opts.token)) {
      throw new ApiError(401, 'unauthorized', header ? 'wrong token' : 'this server needs a token: Authorization: Bearer TOKEN', { 'www-authenticate': 'Bearer' });
    }
  };

  const translate = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const t0 = performance.now();
    authorize(req);
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      throw new ApiError(400, 'bad_json', `the body is not valid JSON (${errorMessage(e)})`);
    }
    const request = parseTranslateRequest(body, defaults, opts.limits, hasAttention);
    const tokens = request.texts.reduce((n, t) => n + translator.subwords.src.encodeIds(t).length, 0);
    let result;
    try {
      result = await batcher.submit(request.texts, tokens, request.decode, request.attention);
    } catch (e) {
      if (e instanceof QueueFullError) throw new ApiError(503, 'queue_full', e.message, { 'retry-after': String(opts.retryAfterS) });
      throw e;
    }
    const translations = result.translations.map((t) => translationJson(t, translator.subwords, run.config.model.type));
    send(res, 200, {
      ...(request.single ? { text: translations[0]!.text } : {}),
      translations,
      decode: { beam: request.decode.beam_size, nbest: request.decode.nbest, alpha: request.decode.length_penalty, max_len_a: request.decode.max_len_a, max_len_b: request.decode.max_len_b },
      timing: timingJson({ ...result, totalMs: performance.now() - t0 }),
    } satisfies TranslateResponseJson);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = req.method ?? 'GET';
    const origin = req.headers.origin;
    if (opts.cors !== undefined && origin === opts.cors) {
      res.setHeader('access-control-allow-origin', opts.cors);
      res.setHeader('vary', 'Origin');
      if (method === 'OPTIONS' && ROUTES[pathname]) {
        res.writeHead(204, {
          'access-control-allow-methods': ROUTES[pathname]!.join(', '),
          'access-control-allow-headers': 'content-type, authorization',
          'access-control-max-age': '600',
        });
        res.end();
        return;
      }
    }
    const methods = ROUTES[pathname];
    if (!methods) throw new ApiError(404, 'not_found', `no such route: ${pathname} (routes: GET /, GET /v1/health, GET /v1/model, POST /v1/translate)`);
    if (!methods.includes(method)) throw new ApiError(405, 'method_not_allowed', `${method} ${pathname}: allowed ${methods.join(', ')}`, { allow: methods.join(', ') });
    if (stopping) throw new ApiError(503, 'shutting_down', 'the server is shutting down', { connection: 'close' });
    if (pathname === '/' || pathname === '/index.html') {
      res.writeHead(200, { ...PAGE_HEADERS, 'content-length': String(page.length) });
      res.end(method === 'HEAD' ? undefined : page);
      return;
    }
    if (pathname === '/v1/health') {
      send(res, 200, {
        status: 'ok',
        queued_sentences: batcher.queued,
        decoding: batcher.busy,
        batches: batcher.stats.batches,
        sentences: batcher.stats.sentences,
        requests: batcher.stats.requests,
        uptime_s: Math.round((Date.now() - started) / 1000),
        auth_required: opts.token !== undefined,
      } satisfies HealthJson);
      return;
    }
    if (pathname === '/v1/model') {
      authorize(req);
      send(res, 200, {
        ...model,
        limits: { max_body_bytes: opts.maxBodyBytes, max_sentences: opts.limits.maxSentences, max_chars: opts.limits.maxChars, max_beam: opts.limits.maxBeam, max_len: opts.limits.maxLen },
      } satisfies ModelJson);
      return;
    }
    await translate(req, res);
  };

  const server = http.createServer(
    {
      headersTimeout: Math.min(opts.headersTimeoutMs, opts.requestTimeoutMs),
      requestTimeout: opts.requestTimeoutMs,
      // How often timed-out requests are looked for (Node's default, 30 s, would let a trickling client stay that long).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(opts.headersTimeoutMs / 4))),
    },
    (req, res) => {
      inFlight += 1;
      const t0 = performance.now();
      res.on('close', () => {
        inFlight -= 1;
        opts.log?.debug(`${req.method} ${req.url} ${res.statusCode} ${(performance.now() - t0).toFixed(1)} ms`);
        if (inFlight === 0) {
          const waiters = idle;
          idle = [];
          waiters.forEach((w) => w());
        }
      });
      handle(req, res).catch((e: unknown) => {
        if (e instanceof ApiError) {
          sendError(res, e);
          // An oversized body is not read: close the connection once answered.
          if (e.status === 413 && e.headers.connection === 'close') res.on('finish', () => req.socket.destroy());
          return;
        }
        opts.log?.warn(`${req.method} ${req.url}: ${errorMessage(e)}`);
        sendError(res, new ApiError(500, 'internal', `internal error: ${errorMessage(e)}`));
      });
    },
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Timed-out and malformed requests: Node's own 408/400, as JSON where the socket still takes it.
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const code = status === 408 ? 'request_timeout' : status === 431 ? 'headers_too_large' : 'bad_request';
    const message = status === 408 ? 'the request was not received in time' : status === 431 ? 'request headers too large' : 'malformed HTTP request';
    const body = JSON.stringify({ error: { code, message } });
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections with no request are closed now; the others once answered.
      server.closeIdleConnections();
      await batcher.drain();
      if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 5000);
      await closed;
      clearTimeout(force);
      if (opts.closeSession !== false) await session.close();
    })());

  return { url: `http://${shownHost}:${address.port}`, port: address.port, server, batcher, close };
}
