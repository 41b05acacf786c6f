/**
 * mt's SentencePiece trainers against Debian's spm_train (0.1.97) on the same corpus and settings:
 * pieces in common, whether the models are identical (pieces, order, scores), pieces per held-out
 * sentence, whether mt's `.vocab` equals spm_export_vocab's, and trainer CPU time.
 *
 *   node --import tsx bench/subword-vs-spm.ts [--corpora koen,ko,fren,multi30k] [--sizes 8000,16000]
 *       [--types unigram,bpe] [--trials 5] [--node-flags '--flag …'] [--json out.json]
 *
 * Corpora (../shared/data; raw text, both trainers normalize it themselves with nmt_nfkc):
 *   koen      Korean + English, one joint model: korean-english-news test, korean-english-jhe eval
 *             and manythings-kor-eng (8,469 pairs, 16,938 lines); held out: news dev + jhe dev
 *             (1,720 pairs, 3,440 lines)
 *   ko        the Korean side of koen alone (8,469 lines; held out 1,720)
 *   fren      French + English, tatoeba-test-eng-fra: the first 11,681 pairs (23,362 lines);
 *             held out: the last 1,000 pairs (2,000 lines)
 *   multi30k  German + English, Multi30k train (58,000 lines); held out: test2016 de + en (2,000)
 * Settings: character_coverage 1.0, pad/unk/bos/eos ids 0/1/2/3, everything else spm's defaults.
 *
 * Time: the CPU time (user + system) of one training, mt and `spm_train --num_threads=1` run
 * alternately (mt, spm, mt, spm, …) for --trials trials each, as medians with min–max, with the
 * load average before and after. Each mt trial is a fresh `node` process (so every trial pays the
 * JIT warm-up, as a user's `mt vocab` does) timing itself from reading the input files to writing
 * the model — Node's own start-up (~0.1 s) is left out; spm_train's CPU time is its whole process,
 * read with bash's `times`. spm_train with its default 16 threads runs once more, for the overlap
 * between spm's own thread counts. Pieces per sentence: both models encoded by spm_encode (the
 * same encoder for both). mt's wall time is shown too (its CPU time includes V8's compiler and GC
 * threads, which run beside the main one). --node-flags runs mt's node with V8 options, to
 * measure what they trade (e.g. --no-concurrent-recompilation: less CPU, more wall time on short
 * trainings; see docs/subword.md). When spm_train refuses a vocabulary size as too large, the row
 * says so and whether mt refuses it with the same maximum. Needs the Debian package `sentencepiece`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readLinesSync } from '../src/data/lines.ts';
import { decodeModelProto, encodeModelProto } from '../src/subword/model-proto.ts';
import { trainSentencePiece } from '../src/subword/train.ts';
import { formatVocab } from '../src/subword/trainer-common.ts';
import { compare, formatComparison, formatSummary, interleave, loadAverage, loadLines, machine, summarize, wholeNumber, type Comparison, type Summary } from './trials.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA = path.resolve(REPO, '..', 'shared', 'data');

interface Corpus {
  name: string;
  what: string;
  train: string[];
  held: string[];
}

/** Files, or [file, first line, last line (exclusive)] slices written to the work folder. */
type Part = string | [string, number, number];

function corpora(work: string): Map<string, Corpus> {
  const d = (f: string) => path.join(DATA, f);
  const slice = (name: string, parts: Part[]): string[] =>
    parts.map((p, i) => {
      if (typeof p === 'string') return p;
      const [file, from, to] = p;
      const out = path.join(work, `${name}-${i}-${path.basename(file)}`);
      if (!fs.existsSync(out)) fs.writeFileSync(out, readLinesSync(file).slice(from, to).join('\n') + '\n');
      return out;
    });
  const koTrain = ['korean-english-news/test.ko', 'korean-english-jhe/eval.ko', 'manythings-kor-eng/all.ko'].map(d);
  const enTrain = ['korean-english-news/test.en', 'korean-english-jhe/eval.en', 'manythings-kor-eng/all.en'].map(d);
  const koHeld = ['korean-english-news/dev.ko', 'korean-english-jhe/dev.ko'].map(d);
  const enHeld = ['korean-english-news/dev.en', 'korean-english-jhe/dev.en'].map(d);
  const fra = d('tatoeba-test-eng-fra/test.fr');
  const eng = d('tatoeba-test-eng-fra/test.en');
  const list: Corpus[] = [
    { name: 'koen', what: 'Korean + English (news test, jhe eval, manythings; 16,938 lines), joint', train: [...koTrain, ...enTrain], held: [...koHeld, ...enHeld] },
    { name: 'ko', what: 'Korean only (8,469 lines)', train: koTrain, held: koHeld },
    {
      name: 'fren',
      what: 'French + English (tatoeba eng-fra, first 11,681 pairs; 23,362 lines), joint',
      train: slice('fren-train', [[fra, 0, 11681], [eng, 0, 11681]]),
      held: slice('fren-held', [[fra, 11681, 12681], [eng, 11681, 12681]]),
    },
    {
      name: 'multi30k',
      what: 'Multi30k train German + English (58,000 lines), joint',
      train: ['multi30k/train.de', 'multi30k/train.en'].map(d),
      held: ['multi30k/test2016.de', 'multi30k/test2016.en'].map(d),
    },
  ];
  return new Map(list.map((c) => [c.name, c]));
}

const SPM_FLAGS = ['--character_coverage=1.0', '--pad_id=0', '--unk_id=1', '--bos_id=2', '--eos_id=3', '--minloglevel=2'];

interface TrainResult {
  cpu: number;
  /** mt only: the training's wall time. */
  wall?: number;
  /** spm_train's "Please set it to a value <= N", or mt's "at most N pieces". */
  refusedAbove?: number;
  error?: string;
}

/** One spm_train run; CPU time of the process from bash's `times` (children's user + system). */
function spmTrain(type: string, vocab: number, inputs: string[], prefix: string, threads: number | undefined): TrainResult {
  const args = [`--input=${inputs.join(',')}`, `--model_prefix=${prefix}`, `--model_type=${type}`, `--vocab_size=${vocab}`, ...SPM_FLAGS];
  if (threads) args.push(`--num_threads=${threads}`);
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('bash', ['-c', `spm_train ${quoted} 2>"$0.log"; rc=$?; times; exit $rc`, prefix], { encoding: 'utf8' });
  const cpu = childCpu(r.stdout);
  if (r.status !== 0) {
    const log = fs.readFileSync(`${prefix}.log`, 'utf8');
    const m = /value <= (\d+)/.exec(log);
    if (m) return { cpu, refusedAbove: Number(m[1]) };
    throw new Error(`spm_train failed: ${log.trim().split('\n').at(-1)}`);
  }
  return { cpu };
}

/** bash `times`: the second line is the children's "XmY.YYYs XmY.YYYs" (user, system). */
function childCpu(out: string): number {
  const line = out.trim().split('\n').at(-1) ?? '';
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (secs.length !== 2) throw new Error(`cannot read bash times output: ${JSON.stringify(out)}`);
  return secs[0]! + secs[1]!;
}

/** One mt training in a fresh node process (this file with --child), which times itself. */
function mtTrain(type: string, vocab: number, inputs: string[], prefix: string, nodeFlags: string[]): TrainResult {
  const job = JSON.stringify({ type, vocab, inputs, prefix });
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', fileURLToPath(import.meta.url), '--child', job], { encoding: 'utf8', cwd: REPO, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`mt trainer child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as TrainResult;
}

/** --child: train, write prefix.model and prefix.vocab, print {cpu, wall} (or the refusal) as JSON. */
function child(job: { type: 'bpe' | 'unigram'; vocab: number; inputs: string[]; prefix: string }): void {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const lines = job.inputs.flatMap((f) => readLinesSync(f));
  let result: TrainResult;
  try {
    const model = trainSentencePiece(lines, {
      type: job.type,
      vocabSize: job.vocab,
      characterCoverage: 1,
      maxPieceLength: 16,
      splitDigits: false,
      userDefinedSymbols: [],
      inputSentenceSize: 0,
      seed: 1234,
      padId: 0,
      unkId: 1,
      bosId: 2,
      eosId: 3,
      inputs: job.inputs,
      modelPrefix: job.prefix,
    });
    fs.writeFileSync(`${job.prefix}.model`, encodeModelProto(model));
    fs.writeFileSync(`${job.prefix}.vocab`, formatVocab(model));
    const c = process.cpuUsage(c0);
    result = { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - t0) / 1e3 };
  } catch (e) {
    const c = process.cpuUsage(c0);
    const m = /at most (\d+) pieces/.exec((e as Error).message);
    result = { cpu: (c.user + c.system) / 1e6, wall: (performance.now() - t0) / 1e3, ...(m ? { refusedAbove: Number(m[1]) } : { error: (e as Error).message }) };
  }
  console.log(JSON.stringify(result));
}

function piecesOf(model: string): string[] {
  return decodeModelProto(fs.readFileSync(model)).pieces.map((p) => p.piece);
}

function piecesPerSentence(model: string, files: string[]): number {
  const input = files.map((f) => fs.readFileSync(f, 'utf8')).join('');
  const out = execFileSync('spm_encode', [`--model=${model}`], { input, maxBuffer: 1 << 28 }).toString('utf8').split('\n');
  out.pop();
  return out.reduce((n, l) => n + (l ? l.split(' ').length : 0), 0) / out.length;
}

interface Row {
  corpus: string;
  type: string;
  vocab_size: number;
  /** Set when spm_train refuses the size: its maximum, and mt's. */
  refused?: { spm: number; mt: number | null };
  common?: number;
  common_pct?: number;
  identical?: boolean;
  common_with_spm_16_threads_pct?: number;
  spm_1_vs_16_threads_pct?: number;
  held_out_pieces_per_sentence?: { mt: number; spm: number; diff_pct: number };
  vocab_file_equals_spm_export_vocab?: boolean;
  cpu_s: { mt: Summary; spm_1_thread: Summary; trials: { mt: number[]; spm_1_thread: number[] } };
  wall_s: { mt: Summary };
  mt_over_spm?: Comparison;
}

async function run(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      corpora: { type: 'string', default: 'koen,ko,fren,multi30k' },
      sizes: { type: 'string', default: '8000,16000' },
      types: { type: 'string', default: 'unigram,bpe' },
      trials: { type: 'string', default: '5' },
      'node-flags': { type: 'string', default: '' },
      json: { type: 'string' },
    },
  });
  const trials = wholeNumber('--trials', args.trials, 1);
  const nodeFlags = args['node-flags'].split(' ').filter((f) => f !== '');
  const badFlag = nodeFlags.find((f) => !f.startsWith('--'));
  if (badFlag !== undefined) {
    console.error(`--node-flags: ${badFlag} is not an option (each starts with --)`);
    process.exit(2);
  }
  if (spawnSync('spm_train', ['--help']).error) {
    console.error('spm_train not found: install the Debian package sentencepiece');
    process.exit(2);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-bench-subword-'));
  const all = corpora(work);
  const cores = os.availableParallelism();
  const before = loadAverage();
  const rows: Row[] = [];
  console.log(`subword-vs-spm on ${machine().cpu}, ${cores} cores, ${new Date().toISOString()}; ${trials} trial(s) a side${nodeFlags.length ? `; mt's node runs with ${nodeFlags.join(' ')}` : ''}`);
  for (const name of args.corpora.split(',')) {
    const corpus = all.get(name);
    if (!corpus) throw new Error(`--corpora: unknown corpus ${name} (known: ${[...all.keys()].join(', ')})`);
    for (const vocab of args.sizes.split(',').map(Number)) {
      for (const type of args.types.split(',')) {
        const tag = `${name}-${type}-${vocab}`;
        const spmPrefix = path.join(work, `${tag}-spm`);
        const mtPrefix = path.join(work, `${tag}-mt`);
        const got = await interleave<TrainResult>(trials, [
          { name: 'mt', run: () => mtTrain(type, vocab, corpus.train, mtPrefix, nodeFlags) },
          { name: 'spm', run: () => spmTrain(type, vocab, corpus.train, spmPrefix, 1) },
        ]);
        const mtCpu = got.get('mt')!.map((r) => r.cpu);
        const spmCpu = got.get('spm')!.map((r) => r.cpu);
        const row: Row = {
          corpus: name,
          type,
          vocab_size: vocab,
          cpu_s: { mt: summarize(mtCpu), spm_1_thread: summarize(spmCpu), trials: { mt: mtCpu, spm_1_thread: spmCpu } },
          wall_s: { mt: summarize(got.get('mt')!.map((r) => r.wall!)) },
        };
        const spmLast = got.get('spm')!.at(-1)!;
        const mtLast = got.get('mt')!.at(-1)!;
        if (spmLast.refusedAbove !== undefined) {
          row.refused = { spm: spmLast.refusedAbove, mt: mtLast.refusedAbove ?? null };
        } else {
          if (mtLast.refusedAbove !== undefined || mtLast.error) throw new Error(`${tag}: mt failed where spm_train did not: ${mtLast.error ?? `at most ${mtLast.refusedAbove}`}`);
          // Smaller is faster here (CPU seconds): spm over mt is mt's speed relative to spm.
          row.mt_over_spm = compare(mtCpu, spmCpu);
          const spmPieces = piecesOf(`${spmPrefix}.model`);
          const mtPieces = piecesOf(`${mtPrefix}.model`);
          const spmSet = new Set(spmPieces);
          row.common = mtPieces.filter((p) => spmSet.has(p)).length;
          row.common_pct = Number(((100 * row.common) / spmPieces.length).toFixed(2));
          const dump = (f: string) => decodeModelProto(fs.readFileSync(f)).pieces.map((p) => `${p.piece}\t${p.score}\t${p.type}`).join('\n');
          row.identical = dump(`${spmPrefix}.model`) === dump(`${mtPrefix}.model`);
          spmTrain(type, vocab, corpus.train, `${spmPrefix}16`, undefined);
          const spm16 = new Set(piecesOf(`${spmPrefix}16.model`));
          row.common_with_spm_16_threads_pct = Number(((100 * mtPieces.filter((p) => spm16.has(p)).length) / spmPieces.length).toFixed(2));
          row.spm_1_vs_16_threads_pct = Number(((100 * spmPieces.filter((p) => spm16.has(p)).length) / spmPieces.length).toFixed(2));
          const mtPps = piecesPerSentence(`${mtPrefix}.model`, corpus.held);
          const spmPps = piecesPerSentence(`${spmPrefix}.model`, corpus.held);
          row.held_out_pieces_per_sentence = { mt: Number(mtPps.toFixed(4)), spm: Number(spmPps.toFixed(4)), diff_pct: Number(((100 * (mtPps - spmPps)) / spmPps).toFixed(3)) };
          const exported = execFileSync('spm_export_vocab', [`--model=${mtPrefix}.model`], { maxBuffer: 1 << 26 }).toString('utf8');
          row.vocab_file_equals_spm_export_vocab = exported === fs.readFileSync(`${mtPrefix}.vocab`, 'utf8');
        }
        rows.push(row);
        console.log(formatRow(row));
      }
    }
  }
  const after = loadAverage(1);
  for (const l of loadLines(before, after, cores)) console.log(l);
  fs.rmSync(work, { recursive: true, force: true });
  if (args.json) fs.writeFileSync(args.json, JSON.stringify({ machine: machine(), node_flags: nodeFlags, load: { before: before.load, after: after.load }, corpora: [...all.values()].map(({ name, what }) => ({ name, what })), rows }, null, 2) + '\n');
}

function formatRow(r: Row): string {
  const head = `${r.corpus.padEnd(8)} ${r.type.padEnd(7)} ${String(r.vocab_size).padStart(5)}`;
  const cpu = `cpu s mt ${formatSummary(r.cpu_s.mt, 2)} spm ${formatSummary(r.cpu_s.spm_1_thread, 2)} (mt wall ${formatSummary(r.wall_s.mt, 2)})`;
  if (r.refused) return `${head}  spm_train refuses: at most ${r.refused.spm} pieces; mt: ${r.refused.mt === null ? 'does not refuse' : `at most ${r.refused.mt}`}  ${cpu}`;
  const pps = r.held_out_pieces_per_sentence!;
  return [
    head,
    ` common ${r.common}/${r.vocab_size} (${r.common_pct}%)${r.identical ? ' identical' : ''}`,
    ` vs spm 16 threads ${r.common_with_spm_16_threads_pct}% (spm 1 vs 16: ${r.spm_1_vs_16_threads_pct}%)`,
    ` held-out pieces/sentence ${pps.mt} / ${pps.spm} (${pps.diff_pct >= 0 ? '+' : ''}${pps.diff_pct}%)`,
    ` .vocab ${r.vocab_file_equals_spm_export_vocab ? '=' : '≠'} spm_export_vocab`,
    ` ${cpu}, mt ÷ spm ${formatComparison(r.mt_over_spm!)}`,
  ].join('');
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) child(JSON.parse(process.argv[childAt + 1]!));
else await run();
