/**
 * mt's SentencePiece trainers against Debian's spm_train on the same corpus and settings:
 * vocabulary overlap, mean pieces per sentence, training time.
 *
 *   node --import tsx bench/subword-vs-spm.ts [--types bpe,unigram] [--vocab 8000] [--json]
 *
 * Corpus: Multi30k train, German + English (58,000 lines, one joint model), raw text — both
 * trainers normalize it themselves (nmt_nfkc). Settings: character_coverage 1.0, pad/unk/bos/eos
 * ids 0/1/2/3, everything else at spm's defaults. spm_train runs twice: with its default 16
 * threads (its unigram E-step is multi-threaded) and with --num_threads=1 (mt is single-threaded).
 * Times are wall clock, each trainer reading the files itself and writing its model.
 * Pieces per sentence: both models encoded by spm_encode (the same encoder for both) on the
 * training lines and on test2016 de+en. Needs the Debian package `sentencepiece`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readLinesSync } from '../src/data/lines.ts';
import { encodeModelProto } from '../src/subword/model-proto.ts';
import { trainSentencePiece } from '../src/subword/train.ts';

const { values: args } = parseArgs({
  options: {
    types: { type: 'string', default: 'bpe,unigram' },
    vocab: { type: 'string', default: '8000' },
    json: { type: 'boolean', default: false },
  },
});

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MULTI30K = path.resolve(REPO, '..', 'shared', 'data', 'multi30k');
const TRAIN = ['train.de', 'train.en'].map((f) => path.join(MULTI30K, f));
const TEST = ['test2016.de', 'test2016.en'].map((f) => path.join(MULTI30K, f));
const vocabSize = Number(args.vocab);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-bench-subword-'));

if (spawnSync('spm_train', ['--help']).error) {
  console.error('spm_train not found: install the Debian package sentencepiece');
  process.exit(2);
}

function spmTrain(type: string, prefix: string, threads?: number): number {
  const t0 = performance.now();
  execFileSync('spm_train', [
    `--input=${TRAIN.join(',')}`,
    `--model_prefix=${prefix}`,
    `--model_type=${type}`,
    `--vocab_size=${vocabSize}`,
    '--character_coverage=1.0',
    '--pad_id=0',
    '--unk_id=1',
    '--bos_id=2',
    '--eos_id=3',
    '--minloglevel=2',
    ...(threads ? [`--num_threads=${threads}`] : []),
  ]);
  return (performance.now() - t0) / 1000;
}

function mtTrain(type: 'bpe' | 'unigram', prefix: string): number {
  const t0 = performance.now();
  const lines = TRAIN.flatMap(readLinesSync);
  const model = trainSentencePiece(lines, {
    type,
    vocabSize,
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
    inputs: TRAIN,
    modelPrefix: prefix,
  });
  fs.writeFileSync(`${prefix}.model`, encodeModelProto(model));
  return (performance.now() - t0) / 1000;
}

function pieces(model: string): string[] {
  const out = execFileSync('spm_export_vocab', [`--model=${model}`], { maxBuffer: 1 << 26 }).toString('utf8');
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0]!);
}

function piecesPerSentence(model: string, files: string[]): number {
  const input = files.map((f) => fs.readFileSync(f, 'utf8')).join('');
  const out = execFileSync('spm_encode', [`--model=${model}`], { input, maxBuffer: 1 << 28 }).toString('utf8').split('\n');
  out.pop();
  return out.reduce((n, l) => n + (l ? l.split(' ').length : 0), 0) / out.length;
}

interface Row {
  type: string;
  overlap: number;
  overlap_pct: number;
  train_pps: { mt: number; spm: number; diff_pct: number };
  test_pps: { mt: number; spm: number; diff_pct: number };
  seconds: { mt: number; spm: number; spm_1_thread: number };
  time_ratio: { vs_spm: number; vs_spm_1_thread: number };
}

const pct = (a: number, b: number) => Number((((a - b) / b) * 100).toFixed(2));
const rows: Row[] = [];
for (const type of args.types.split(',') as ('bpe' | 'unigram')[]) {
  const spmPrefix = path.join(work, `spm-${type}`);
  const mtPrefix = path.join(work, `mt-${type}`);
  const spmSeconds = spmTrain(type, spmPrefix);
  const spm1Seconds = spmTrain(type, `${spmPrefix}-1`, 1);
  const mtSeconds = mtTrain(type, mtPrefix);
  const spmPieces = new Set(pieces(`${spmPrefix}.model`));
  const mtPieces = pieces(`${mtPrefix}.model`);
  const common = mtPieces.filter((p) => spmPieces.has(p)).length;
  const tr = { mt: piecesPerSentence(`${mtPrefix}.model`, TRAIN), spm: piecesPerSentence(`${spmPrefix}.model`, TRAIN) };
  const te = { mt: piecesPerSentence(`${mtPrefix}.model`, TEST), spm: piecesPerSentence(`${spmPrefix}.model`, TEST) };
  rows.push({
    type,
    overlap: common,
    overlap_pct: Number(((common / spmPieces.size) * 100).toFixed(2)),
    train_pps: { mt: Number(tr.mt.toFixed(3)), spm: Number(tr.spm.toFixed(3)), diff_pct: pct(tr.mt, tr.spm) },
    test_pps: { mt: Number(te.mt.toFixed(3)), spm: Number(te.spm.toFixed(3)), diff_pct: pct(te.mt, te.spm) },
    seconds: { mt: Number(mtSeconds.toFixed(1)), spm: Number(spmSeconds.toFixed(1)), spm_1_thread: Number(spm1Seconds.toFixed(1)) },
    time_ratio: { vs_spm: Number((mtSeconds / spmSeconds).toFixed(2)), vs_spm_1_thread: Number((mtSeconds / spm1Seconds).toFixed(2)) },
  });
}
fs.rmSync(work, { recursive: true, force: true });

if (args.json) {
  console.log(JSON.stringify({ corpus: 'multi30k train de+en', vocab_size: vocabSize, rows }, null, 2));
} else {
  console.log(`Multi30k train de+en (58,000 lines), joint model, ${vocabSize} pieces, character_coverage 1.0`);
  console.log('type     overlap          pieces/sent train (mt / spm / diff)   test2016 (mt / spm / diff)   time s (mt / spm / spm 1 thread)   mt ÷ spm');
  for (const r of rows) {
    console.log(
      [
        r.type.padEnd(8),
        `${r.overlap}/${vocabSize} (${r.overlap_pct}%)`.padEnd(16),
        `${r.train_pps.mt} / ${r.train_pps.spm} / ${r.train_pps.diff_pct}%`.padEnd(37),
        `${r.test_pps.mt} / ${r.test_pps.spm} / ${r.test_pps.diff_pct}%`.padEnd(28),
        `${r.seconds.mt} / ${r.seconds.spm} / ${r.seconds.spm_1_thread}`.padEnd(34),
        `${r.time_ratio.vs_spm} (1 thread: ${r.time_ratio.vs_spm_1_thread})`,
      ].join(' '),
    );
  }
}
