/**
 * `mt serve` (src/serve): the real server on 127.0.0.1, port 0, over a tiny trained run. Every
 * route and error; answers equal to `mt translate`'s for the same sentences, greedy and beam,
 * however requests are batched together; limits, a slow client, the token; the batcher's
 * grouping and bounded queue; and the real `mt serve` stopped by SIGTERM with requests in flight.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../src/backend/index.ts';
import type { DecodeConfig } from '../src/config/schema.ts';
import { TranslatorSession } from '../src/decode/session.ts';
import type { Translation } from '../src/decode/translate.ts';
import type { RunDir } from '../src/run/rundir.ts';
import { Batcher, QueueFullError } from '../src/serve/batcher.ts';
import { DEFAULT_SERVE_OPTIONS, startServer, type ServeHandle, type ServeOptions } from '../src/serve/server.ts';
import { runMt, runMtAsync, tempDir } from './helpers/cli.ts';
import { TINY_MODELS } from './train-fixture.ts';
import type { ErrorJson, HealthJson } from '../src/serve/api.ts';
import type { ModelJson } from '../src/serve/server.ts';
import { SENTENCES, call, errorCode, removeRun, startServeChild, trainedRun } from './serve-helpers.ts';

const OPTIONS: ServeOptions = {
  ...DEFAULT_SERVE_OPTIONS,
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 4096,
  limits: { maxSentences: 8, maxChars: 200, maxBeam: 5, maxLen: 50 },
  batching: { windowMs: 20, maxSentences: 64, maxTokens: 4096, maxQueue: 256 },
};
/**
 * Short client timeouts, for the trickling-client test only: with decoding on the server's thread,
 * a loaded machine can hold a waiting request past a 1 s limit, and it would get 408 too.
 */
const SHORT_TIMEOUTS = { headersTimeoutMs: 400, requestTimeoutMs: 1000 };

interface JsonLine {
  index: number;
  text: string;
  hypotheses: { text: string; score: number }[];
}

/** `mt translate --json` on `sentences` (one file, batched as the CLI batches). */
async function cliTranslate(run: RunDir, sentences: string[], beam: number, nbest: number): Promise<JsonLine[]> {
  const file = path.join(tempDir('mt-serve-'), 'in.txt');
  fs.writeFileSync(file, sentences.join('\n') + '\n');
  const r = await runMtAsync(['--json', 'translate', '--run', run.root, '-i', file, '--beam', String(beam), '--nbest', String(nbest), '--threads', '1']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonLine);
}

describe('mt serve', () => {
  let run: RunDir;
  let session: TranslatorSession;
  let server: ServeHandle;
  let url: string;

  before(async () => {
    await initBackend('wasm');
    run = await trainedRun();
    session = await TranslatorSession.open(run, { backend: 'wasm' });
    server = await startServer(session, run, OPTIONS);
    url = server.url;
  });

  after(async () => {
    await server?.close();
    removeRun(run);
  });

  it('serves the page, health and model', async () => {
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'none'/);
    const html = await page.text();
    assert.match(html, /id="translate"/);
    assert.ok(!/https?:\/\/(?!localhost)/.test(html.replace(/https:\/\/example\.org/g, '')), 'the page loads nothing from the internet');
    const head = await fetch(`${url}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);

    const health = await call<HealthJson>(`${url}/v1/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.equal(health.body.auth_required, false);

    const model = await call<ModelJson>(`${url}/v1/model`);
    assert.equal(model.status, 200);
    assert.equal(model.body.family, 'attention');
    assert.ok(model.body.parameters > 1000);
    assert.deepEqual(model.body.languages, { source: 'xx', target: 'yy' });
    assert.match(model.body.config_hash ?? '', /^[0-9a-f]{64}$/);
    assert.match(model.body.weights, /^checkpoint step-/);
    assert.equal(model.body.checkpoint?.step, 3);
    assert.equal(model.body.eval, null, 'no eval yet');
    assert.equal(model.body.decode.beam, 3);
    assert.equal(model.body.limits.max_sentences, 8);
  });

  it('answers as mt translate does, greedy and beam, one request per sentence, all at once (batched)', async () => {
    for (const [beam, nbest] of [
      [1, 1],
      [3, 2],
    ] as const) {
      const expected = await cliTranslate(run, SENTENCES, beam, nbest);
      const replies = await Promise.all(SENTENCES.map((text) => call(`${url}/v1/translate`, { body: { text, beam, nbest } })));
      replies.forEach((r, i) => {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.text, expected[i]!.text, `beam ${beam}: ${SENTENCES[i]}`);
        const got = r.body.translations[0].hypotheses as { text: string; score: number; pieces: string[] }[];
        assert.deepEqual(
          got.map((h) => h.text),
          expected[i]!.hypotheses.map((h) => h.text),
        );
        got.forEach((h, k) => assert.ok(Math.abs(h.score - expected[i]!.hypotheses[k]!.score) < 1e-4, `score ${h.score} vs ${expected[i]!.hypotheses[k]!.score}`));
        assert.ok(Array.isArray(got[0]!.pieces));
        assert.ok(r.body.timing.total_ms >= r.body.timing.decode_ms);
      });
      assert.ok(
        replies.some((r) => r.body.timing.batch_requests > 1),
        `concurrent requests share a batch: ${replies.map((r) => r.body.timing.batch_requests).join(',')}`,
      );
    }
  });

  it('gives 16 concurrent requests what it gives them one at a time, and texts[] what it gives each text', async () => {
    const texts = Array.from({ length: 16 }, (_, i) => SENTENCES[i % SENTENCES.length]!);
    const sequential: unknown[] = [];
    for (const text of texts) sequential.push((await call(`${url}/v1/translate`, { body: { text } })).body.translations);
    const concurrent = await Promise.all(texts.map((text) => call(`${url}/v1/translate`, { body: { text } })));
    const strip = (ts: { hypotheses: { text: string }[]; text: string }[]) => ts.map((t) => ({ text: t.text, hyps: t.hypotheses.map((h) => h.text) }));
    assert.deepEqual(
      concurrent.map((r) => strip(r.body.translations)),
      sequential.map((s) => strip(s as never)),
    );
    const many = await call(`${url}/v1/translate`, { body: { texts: SENTENCES.slice(0, 8) } });
    assert.equal(many.status, 200);
    assert.equal(many.body.text, undefined);
    assert.deepEqual(
      many.body.translations.map((t: { text: string }) => t.text),
      sequential.slice(0, 8).map((s) => (s as { text: string }[])[0]!.text),
    );
  });

  it('returns attention weights: one row per target piece (and </s>), one column per source piece', async () => {
    const r = await call(`${url}/v1/translate`, { body: { text: 'ka lo mi', attention: true } });
    assert.equal(r.status, 200);
    const t = r.body.translations[0]!;
    const att = t.attention!;
    assert.deepEqual(att.source, t.source_pieces);
    assert.deepEqual(att.target, [...t.hypotheses[0].pieces, '</s>']);
    assert.equal(att.weights.length, att.target.length);
    for (const row of att.weights) {
      assert.equal(row.length, att.source.length);
      assert.ok(Math.abs(row.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-3);
    }
    assert.match(att.kind, /attention/);
    assert.equal(t.attention_heads, undefined, 'the attention model has one attention, no heads');
  });

  it('refuses bad requests with the right status and a JSON error, and keeps serving', async () => {
    const t = `${url}/v1/translate`;
    const cases: [string, Parameters<typeof call>[1], number, string][] = [
      ['bad JSON', { body: '{"text": ' }, 400, 'bad_json'],
      ['not an object', { body: '[1]' }, 400, 'invalid_request'],
      ['no text', { body: {} }, 400, 'invalid_request'],
      ['text and texts', { body: { text: 'ka', texts: ['ka'] } }, 400, 'invalid_request'],
      ['text a number', { body: { text: 3 } }, 400, 'invalid_request'],
      ['texts a string', { body: { texts: 'ka' } }, 400, 'invalid_request'],
      ['texts with a number', { body: { texts: ['ka', 1] } }, 400, 'invalid_request'],
      ['empty text', { body: { text: '  ' } }, 400, 'invalid_request'],
      ['empty texts', { body: { texts: [] } }, 400, 'invalid_request'],
      ['a line break', { body: { text: 'ka\nlo' } }, 400, 'invalid_request'],
      ['unknown field', { body: { text: 'ka', beam_size: 2 } }, 400, 'invalid_request'],
      ['beam 0', { body: { text: 'ka', beam: 0 } }, 400, 'invalid_request'],
      ['beam 2.5', { body: { text: 'ka', beam: 2.5 } }, 400, 'invalid_request'],
      ['beam over the limit', { body: { text: 'ka', beam: 6 } }, 400, 'invalid_request'],
      ['nbest over beam', { body: { text: 'ka', beam: 2, nbest: 3 } }, 400, 'invalid_request'],
      ['alpha negative', { body: { text: 'ka', alpha: -1 } }, 400, 'invalid_request'],
      ['attention a string', { body: { text: 'ka', attention: 'yes' } }, 400, 'invalid_request'],
      ['too many sentences', { body: { texts: Array(9).fill('ka') } }, 413, 'too_many_sentences'],
      ['sentence too long', { body: { text: 'ka '.repeat(70) } }, 413, 'sentence_too_long'],
      ['body too large', { body: JSON.stringify({ text: 'x'.repeat(5000) }) }, 413, 'body_too_large'],
    ];
    for (const [what, init, status, code] of cases) {
      const r = await call<ErrorJson>(t, init);
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, what);
      assert.equal(typeof r.body.error.message, 'string');
    }
    const notFound = await call<ErrorJson>(`${url}/v1/nope`);
    assert.equal(notFound.status, 404);
    assert.equal(notFound.body.error.code, 'not_found');
    const traversal = await call(`${url}/../../etc/passwd`);
    assert.equal(traversal.status, 404);
    const wrongMethod = await call(t, { method: 'GET' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    const deleteModel = await call(`${url}/v1/model`, { method: 'DELETE' });
    assert.equal(deleteModel.status, 405);
    assert.equal(wrongMethod.headers.get('access-control-allow-origin'), null, 'no CORS unless asked');
    // max_len caps the output.
    const short = await call(t, { body: { text: 'ka lo mi nu pe', max_len: 1, beam: 1 } });
    assert.equal(short.status, 200);
    assert.ok(short.body.translations[0].hypotheses[0].pieces.length <= 1);
    const ok = await call(t, { body: { text: 'ka lo' } });
    assert.equal(ok.status, 200);
  });

  it('answers 408 to a client that trickles its headers, and keeps serving', async () => {
    const strict = await startServer(session, run, { ...OPTIONS, ...SHORT_TIMEOUTS, closeSession: false });
    const socket = net.connect(strict.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('POST /v1/translate HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
    await closed;
    clearInterval(timer);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /request_timeout/);
    const ok = await call(`http://127.0.0.1:${strict.port}/v1/translate`, { body: { text: 'ka' } });
    assert.equal(ok.status, 200);
    await strict.close();
  });

  it('needs the token when given one, and sends CORS headers to the one origin allowed', async () => {
    const guarded = await startServer(session, run, { ...OPTIONS, token: 's3cret', cors: 'https://example.org', closeSession: false });
    try {
      const health = await call<HealthJson>(`${guarded.url}/v1/health`);
      assert.equal(health.status, 200);
      assert.equal(health.body.auth_required, true);
      const none = await call(`${guarded.url}/v1/translate`, { body: { text: 'ka' } });
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      const wrong = await call<ErrorJson>(`${guarded.url}/v1/model`, { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, 'unauthorized');
      const right = await call(`${guarded.url}/v1/translate`, { body: { text: 'ka' }, headers: { authorization: 'Bearer s3cret' } });
      assert.equal(right.status, 200);
      const preflight = await fetch(`${guarded.url}/v1/translate`, { method: 'OPTIONS', headers: { origin: 'https://example.org' } });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://example.org');
      const other = await fetch(`${guarded.url}/v1/health`, { headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    } finally {
      await guarded.close();
    }
  });

  it('answers 503 with Retry-After when its queue is full', async () => {
    const small = await startServer(session, run, { ...OPTIONS, batching: { ...OPTIONS.batching, windowMs: 300, maxQueue: 2 }, closeSession: false });
    try {
      const replies = await Promise.all(['ka', 'lo', 'mi'].map((text) => call(`${small.url}/v1/translate`, { body: { text } })));
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 200, 503]);
      const full = replies.find((r) => r.status === 503)!;
      assert.equal(errorCode(full), 'queue_full');
      assert.equal(full.headers.get('retry-after'), '1');
    } finally {
      await small.close();
    }
  });
});

describe('mt serve on a Transformer: attention per layer and head', () => {
  const LAYERS = 2;
  const HEADS = 2;
  let run: RunDir;
  let session: TranslatorSession;
  let server: ServeHandle;

  before(async () => {
    await initBackend('wasm');
    run = await trainedRun(3, undefined, {}, { ...TINY_MODELS.transformer, decoder_layers: LAYERS, heads: HEADS });
    session = await TranslatorSession.open(run, { backend: 'wasm' });
    server = await startServer(session, run, OPTIONS);
  });

  after(async () => {
    await server?.close();
    removeRun(run);
  });

  for (const [beam, nbest] of [
    [1, 1],
    [3, 3],
  ] as const) {
    it(`beam ${beam}: attention_heads is [layer][head][target][source], rows sum to 1, the last layer's head mean is attention`, async () => {
      const texts = SENTENCES.slice(0, 6);
      const r = await call(`${server.url}/v1/translate`, { body: { texts, beam, nbest, attention: true } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const plain = await call(`${server.url}/v1/translate`, { body: { texts, beam, nbest } });
      r.body.translations.forEach((t, i) => {
        const att = t.attention!;
        const heads = t.attention_heads!;
        assert.ok(heads, `sentence ${i}: attention_heads`);
        assert.match(att.kind, /attention_heads/);
        assert.equal(heads.length, LAYERS);
        heads.forEach((layer, l) => {
          assert.equal(layer.length, HEADS, `layer ${l}: heads`);
          layer.forEach((head, h) => {
            assert.equal(head.length, att.target.length, `layer ${l} head ${h}: target rows`);
            head.forEach((row, j) => {
              assert.equal(row.length, att.source.length);
              const sum = row.reduce((a, b) => a + b, 0);
              assert.ok(Math.abs(sum - 1) < 1e-4, `layer ${l} head ${h} row ${j} sums to ${sum}`);
            });
          });
        });
        const last = heads[LAYERS - 1]!;
        att.weights.forEach((row, j) =>
          row.forEach((w, k) => {
            const mean = last.reduce((a, head) => a + head[j]![k]!, 0) / HEADS;
            assert.ok(Math.abs(mean - w) < 1e-5, `sentence ${i} target ${j} source ${k}: head mean ${mean} vs attention ${w}`);
          }),
        );
        // Collecting the weights changes no output.
        const same = plain.body.translations[i]!;
        assert.deepEqual(
          t.hypotheses.map((h) => [h.text, h.score]),
          same.hypotheses.map((h) => [h.text, h.score]),
        );
        assert.equal(same.attention_heads, undefined);
      });
    });
  }
});

describe('the batcher', () => {
  const decode = { beam_size: 1, nbest: 1, length_penalty: 0.6, max_len_a: 1.5, max_len_b: 4, min_len: 0, batch_size: 4, max_input_len: 50 } as DecodeConfig;
  const echo = (calls: string[][]) => async (sentences: string[]) => {
    calls.push(sentences);
    await new Promise((resolve) => setTimeout(resolve, 30));
    return sentences.map((s) => ({ text: s.toUpperCase(), hypotheses: [], srcIds: [], truncated: false }) as Translation);
  };

  it('groups requests with the same options within the window, apart from other options, and caps a batch', async () => {
    const calls: string[][] = [];
    const b = new Batcher(echo(calls), { windowMs: 20, maxSentences: 5, maxTokens: 1000, maxQueue: 100 });
    const results = await Promise.all([
      b.submit(['a', 'b'], 2, decode, false),
      b.submit(['c'], 1, decode, false),
      b.submit(['d'], 1, { ...decode, beam_size: 2 }, false),
      b.submit(['e', 'f'], 2, decode, false),
      b.submit(['g'], 1, decode, false),
    ]);
    assert.deepEqual(
      results.map((r) => r.translations.map((t) => t.text)),
      [['A', 'B'], ['C'], ['D'], ['E', 'F'], ['G']],
    );
    // a, b, c, e, f fill a batch of 5; g waits for the next; d has other options.
    assert.deepEqual(calls.map((c) => c.join('')).sort(), ['abcef', 'd', 'g']);
    assert.equal(results[0]!.batchRequests, 3);
  });

  it('refuses work beyond its queue (503 queue_full), and drains on shutdown', async () => {
    const calls: string[][] = [];
    const b = new Batcher(echo(calls), { windowMs: 50, maxSentences: 100, maxTokens: 1000, maxQueue: 3 });
    const first = b.submit(['a', 'b', 'c'], 3, decode, false);
    await assert.rejects(b.submit(['d'], 1, decode, false), QueueFullError);
    await b.drain();
    assert.equal((await first).translations.length, 3);
    assert.equal(b.queued, 0);
  });
});

describe('mt serve (the command)', () => {
  let run: RunDir;

  before(async () => {
    await initBackend('wasm');
    run = await trainedRun();
  });

  after(() => removeRun(run));

  it('refuses to bind beyond loopback without --token or --no-auth', () => {
    const r = runMt(['serve', '--run', run.root, '--host', '0.0.0.0', '--port', '0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs --token/);
  });

  it('documents its flags', () => {
    const r = runMt(['serve', '--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--run', '--checkpoint', '--host', '--port', '--token', '--no-auth', '--cors', '--batch-window', '--batch-tokens', '--max-queue', '--max-body', '--max-sentences', '--max-chars', '--max-beam']) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });

  it('finishes the requests in flight on SIGTERM, refuses new connections, and exits 143', async () => {
    const served = await startServeChild(run.root, ['--batch-window', '200']);
    const inFlight = SENTENCES.map((text) => call(`${served.url}/v1/translate`, { body: { text } }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    served.child.kill('SIGTERM');
    const replies = await Promise.all(inFlight);
    assert.deepEqual(
      replies.map((r) => r.status),
      SENTENCES.map(() => 200),
    );
    assert.equal(await served.exited, 143, served.stderr());
    await assert.rejects(fetch(`${served.url}/v1/health`));
  });
});
