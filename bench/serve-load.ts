/**
 * Load on `mt serve` over loopback: 1, 8 and 64 concurrent clients (each sends its next request
 * as soon as the last is answered) for a bounded time each, and the same sentences through
 * `mt translate` (one file, batched) for the ratio.
 *
 *   node --import tsx bench/serve-load.ts [--run DIR] [--seconds 30] [--clients 1,8,64]
 *                                         [--per-request 1] [--sentences N] [--batch-window 10]
 *                                         [--threads 1] [--json FILE]
 *
 * The server is the real `mt serve` in a child process (port 0, loopback); the clients are
 * fetch loops in this process (keep-alive connections, no dependency). Sentences are the run's
 * data/test.src (else valid.src), the first N. Without --run a tiny attention model is trained
 * for the purpose (the test fixture's copy task), which makes decoding cheap and the HTTP
 * overhead large: a pessimistic case for the ratio.
 * Per level: requests/s, sentences/s, p50/p99 latency, errors, the server's resident memory
 * after it, and sentences/s over `mt translate`'s (its own summary: decoding time, model loading
 * not counted). The load average is printed before and after: on a busy machine the figures are
 * only indicative.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RunDir } from '../src/run/rundir.ts';
import { MT_BIN, REPO_ROOT } from '../test/helpers/cli.ts';

const { values: args } = parseArgs({
  options: {
    run: { type: 'string' },
    seconds: { type: 'string', default: '30' },
    clients: { type: 'string', default: '1,8,64' },
    'per-request': { type: 'string', default: '1' },
    sentences: { type: 'string', default: '500' },
    'batch-window': { type: 'string', default: '10' },
    threads: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});

const seconds = Number(args.seconds);
const levels = args.clients!.split(',').map(Number);
const perRequest = Number(args['per-request']);
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

async function theRun(): Promise<{ run: RunDir; temporary: boolean }> {
  if (args.run) return { run: RunDir.open(args.run), temporary: false };
  console.error('no --run: training a tiny attention model (the test fixture) …');
  const { initBackend } = await import('../src/backend/index.ts');
  await initBackend('wasm');
  const { trainedRun } = await import('../test/serve-helpers.ts');
  return { run: await trainedRun(30), temporary: true };
}

function sentencesOf(run: RunDir, limit: number): string[] {
  for (const split of ['test', 'valid']) {
    const file = run.path('data', `${split}.src`);
    if (fs.existsSync(file)) {
      const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
      // Repeated up to `limit` where the split is smaller.
      return Array.from({ length: Math.min(limit, Math.max(lines.length, limit)) }, (_, i) => lines[i % lines.length]!);
    }
  }
  throw new Error(`${run.root}: no data/test.src or data/valid.src`);
}

/** `mt translate` on the sentences as one file: its sentences/s (decoding, from its summary line). */
function translateThroughput(run: RunDir, sentences: string[]): number {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mt-serve-load-')), 'in.txt');
  fs.writeFileSync(file, sentences.join('\n') + '\n');
  const r = spawnSync(process.execPath, [MT_BIN, 'translate', '--run', run.root, '-i', file, '-o', file + '.hyp', '--threads', args.threads!], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  const m = /([\d.]+) sentences\/s/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`mt translate failed: ${r.stderr}`);
  return Number(m[1]);
}

function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Level {
  clients: number;
  requests: number;
  sentences: number;
  errors: number;
  seconds: number;
  requests_per_s: number;
  sentences_per_s: number;
  p50_ms: number;
  p99_ms: number;
  rss_mb: number;
  ratio: number;
}

async function drive(url: string, sentences: string[], clients: number, pid: number, baseline: number, duration = seconds): Promise<Level> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const start = performance.now();
  const end = start + duration * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const texts = Array.from({ length: perRequest }, () => sentences[next++ % sentences.length]!);
      const t0 = performance.now();
      try {
        const r = await fetch(`${url}/v1/translate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts }) });
        await r.arrayBuffer();
        if (r.status === 200) latencies.push(performance.now() - t0);
        else errors += 1;
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const sentencesPerS = (latencies.length * perRequest) / elapsed;
  return {
    clients,
    requests: latencies.length,
    sentences: latencies.length * perRequest,
    errors,
    seconds: Math.round(elapsed * 10) / 10,
    requests_per_s: latencies.length / elapsed,
    sentences_per_s: sentencesPerS,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    rss_mb: rssMb(pid),
    ratio: sentencesPerS / baseline,
  };
}

async function main(): Promise<void> {
  const { run, temporary } = await theRun();
  const sentences = sentencesOf(run, Number(args.sentences));
  console.log(`run ${run.root} (${run.config.model.type}), ${sentences.length} sentences, ${perRequest} per request, ${seconds} s per level; load average before: ${load()}`);
  const baseline = translateThroughput(run, sentences);
  console.log(`mt translate (one file, --threads ${args.threads}): ${baseline.toFixed(1)} sentences/s`);

  const child = spawn(process.execPath, [MT_BIN, 'serve', '--run', run.root, '--port', '0', '--threads', args.threads!, '--batch-window', args['batch-window']!, '--max-queue', '100000'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+?)\/?\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`mt serve exited (${code})`)));
  });
  const levelsDone: Level[] = [];
  try {
    // Warm-up: the first requests pay for compiling the model's kernels.
    await drive(url, sentences, 4, child.pid!, baseline, Math.min(3, seconds));
    const rssStart = rssMb(child.pid!);
    console.log(`server resident memory after warm-up: ${rssStart} MB`);
    console.log('clients  requests/s  sentences/s   p50 ms   p99 ms  errors  rss MB  ratio to mt translate');
    for (const clients of levels) {
      const l = await drive(url, sentences, clients, child.pid!, baseline);
      levelsDone.push(l);
      console.log(
        `${String(clients).padStart(7)}  ${l.requests_per_s.toFixed(1).padStart(10)}  ${l.sentences_per_s.toFixed(1).padStart(11)}  ${l.p50_ms.toFixed(1).padStart(7)}  ${l.p99_ms.toFixed(1).padStart(7)}  ${String(l.errors).padStart(6)}  ${String(l.rss_mb).padStart(6)}  ${l.ratio.toFixed(2)}`,
      );
    }
    console.log(`load average after: ${load()} (${os.availableParallelism()} cores)`);
    if (args.json) fs.writeFileSync(args.json, JSON.stringify({ run: run.root, baseline_sentences_per_s: baseline, rss_after_warmup_mb: rssStart, levels: levelsDone, load_after: os.loadavg() }, null, 2) + '\n');
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    if (temporary) fs.rmSync(path.dirname(run.root), { recursive: true, force: true });
  }
}

await main();
