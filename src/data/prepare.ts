/**
 * The `prepare` stage: read the configured corpora, clean them, split off held-out sets where the
 * config gives none, and write data/{train,valid,test}.{src,tgt} plus data/report.json.
 *
 * Everything is written into a staging folder next to data/ and moved into place in one step
 * only when all of it succeeded, so a failure (bad input, too little data left) leaves the
 * previous data/ untouched and nothing half-written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CleanConfig, Corpus } from '../config/sections/data.ts';
import { UserError } from '../errors.ts';
import { LAYOUT, type RunDir } from '../run/rundir.ts';
import { removeDeadTemps, replaceDirAtomic, writeJsonAtomic } from '../util/atomic.ts';
import type { Logger } from '../util/log.ts';
import { startProgress } from '../util/progress.ts';
import { Cleaner, type CleanScope } from './clean.ts';
import { corpusFiles, corpusName, openCorpus } from './corpus.ts';
import { checkInputFile, LineReader } from './lines.ts';
import { SETS, SKIPPED_LISTED, type DataReport, type SetName, type SetReport } from './report.ts';
import { heldOutLines } from './split.ts';
import { LineWriter } from './writer.ts';

const REPORT_FILE = 'report.json';
/** Skipped lines named on the terminal; the report lists more, and counts all. */
const SKIPPED_WARNED = 10;

export interface PairFiles {
  src: string;
  tgt: string;
}

function pairFiles(dir: string, name: string): PairFiles {
  return { src: path.join(dir, `${name}.src`), tgt: path.join(dir, `${name}.tgt`) };
}

/** The prepared files of one set in a run directory: data/<set>.src and data/<set>.tgt. */
export function dataFiles(run: RunDir, set: SetName): PairFiles {
  return pairFiles(run.path(LAYOUT.data), set);
}

/** Run the prepare stage on `run`; returns the report it wrote to data/report.json. */
export async function prepareData(run: RunDir, log: Logger): Promise<DataReport> {
  const cfg = run.config.data;
  // Every input is checked before any work, not when its turn comes after an hour of cleaning.
  for (const corpus of [...cfg.train, cfg.valid, cfg.test]) for (const f of corpus ? corpusFiles(corpus) : []) checkInputFile(f);
  // Staging folders of killed runs (a copy of the corpus each) go; ours carries our pid so that
  // a later run can tell it from a live one's.
  removeDeadTemps(run.path(LAYOUT.data));
  const staging = fs.mkdtempSync(run.path(`.${LAYOUT.data}.${process.pid}.staging-`));
  try {
    const out = (name: SetName | 'train-all'): PairFiles => pairFiles(staging, name);
    const train = await cleanSet('train', cfg.train, cfg.clean, 'train', out('train-all'), log);
    const valid = cfg.valid ? await cleanSet('valid', [cfg.valid], cfg.clean, 'heldout', out('valid'), log) : null;
    const test = cfg.test ? await cleanSet('test', [cfg.test], cfg.clean, 'heldout', out('test'), log) : null;

    const split = { seed: cfg.split.seed, valid: valid ? 0 : cfg.split.valid_size, test: test ? 0 : cfg.split.test_size };
    const held = split.valid + split.test;
    if (held > 0 && train.kept <= held) {
      throw new UserError(
        `train: ${train.kept} pairs left after cleaning, too few to split off ${split.valid} valid and ${split.test} test pairs (data.split.valid_size, data.split.test_size)`,
      );
    }
    const splitOff = (['valid', 'test'] as const).filter((set) => !cfg[set]);
    await splitTrain(out('train-all'), train.kept, split, splitOff, out);
    const output = { train: train.kept - held, valid: valid?.kept ?? split.valid, test: test?.kept ?? split.test };
    const report: DataReport = { src_lang: cfg.src_lang, tgt_lang: cfg.tgt_lang, train, valid, test, split, output };
    writeJsonAtomic(path.join(staging, REPORT_FILE), report);

    const files = [REPORT_FILE, ...SETS.flatMap((set) => Object.values(pairFiles('', set)))];
    replaceDirAtomic(run.path(LAYOUT.data), (tmp) => {
      for (const f of files) fs.renameSync(path.join(staging, f), path.join(tmp, f));
    });
    run.recordStage('prepare', {
      pairs: output,
      skipped_invalid: train.skipped_invalid + (valid?.skipped_invalid ?? 0) + (test?.skipped_invalid ?? 0),
      report: `${LAYOUT.data}/${REPORT_FILE}`,
    });
    return report;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Read, clean and write one set; fails if cleaning leaves nothing or too little. */
async function cleanSet(
  set: SetName,
  corpora: Corpus[],
  clean: CleanConfig,
  scope: CleanScope,
  out: PairFiles,
  log: Logger,
): Promise<SetReport> {
  const cleaner = new Cleaner(clean, scope);
  const report: SetReport = { corpora: [], read: 0, skipped_invalid: 0, skipped_places: [], steps: [], kept: 0 };
  const srcOut = new LineWriter(out.src);
  const tgtOut = new LineWriter(out.tgt);
  try {
    for (const [i, corpus] of corpora.entries()) {
      const reader = openCorpus(corpus, clean.on_invalid_utf8);
      const count = { corpus: corpusName(corpus), pairs: 0, skipped_invalid: 0 };
      const label = corpora.length > 1 ? `${set} ${i + 1}/${corpora.length}` : set;
      const bar = startProgress(log, label, reader.size, ['pairs']);
      try {
        for (let item = await reader.next(); item !== null; item = await reader.next()) {
          count.pairs += 1;
          if (count.pairs % 8192 === 0) bar.update(reader.bytesRead, { pairs: count.pairs });
          if ('skipped' in item) {
            count.skipped_invalid += 1;
            for (const place of item.skipped) {
              if (report.skipped_places.length < SKIPPED_WARNED) log.warn(`skipped ${place}`);
              if (report.skipped_places.length < SKIPPED_LISTED) report.skipped_places.push(place);
            }
            continue;
          }
          const pair = cleaner.clean(item.pair);
          if (pair === null) continue;
          srcOut.write(pair.src);
          tgtOut.write(pair.tgt);
        }
        bar.update(reader.size, { pairs: count.pairs });
      } finally {
        bar.stop();
        reader.close();
      }
      report.corpora.push(count);
      report.read += count.pairs;
      report.skipped_invalid += count.skipped_invalid;
    }
  } finally {
    srcOut.close();
    tgtOut.close();
  }
  if (report.skipped_invalid > SKIPPED_WARNED) {
    log.warn(`${set}: ${report.skipped_invalid} pairs skipped for invalid bytes in all (see data/${REPORT_FILE})`);
  }
  report.steps = cleaner.counts();
  report.kept = srcOut.lines;
  checkKept(set, report, clean.min_kept_fraction);
  return report;
}

/** Refuse to go on with nothing, or with less than `min_kept_fraction`, of a set left. */
function checkKept(set: SetName, r: SetReport, minFraction: number): void {
  if (r.kept > 0 && r.kept >= minFraction * r.read) return;
  let worst = r.skipped_invalid > 0 ? `invalid lines: ${r.skipped_invalid}` : '';
  let most = r.skipped_invalid;
  for (const s of r.steps) {
    if ('dropped' in s && s.dropped > most) {
      most = s.dropped;
      worst = `${s.step}: ${s.dropped}`;
    }
  }
  const why = worst ? ` (most dropped by ${worst})` : '';
  const pct = r.read > 0 ? ` (${((100 * r.kept) / r.read).toFixed(1)}%)` : '';
  const limit = r.kept === 0 ? '' : `, less than data.clean.min_kept_fraction ${minFraction}`;
  throw new UserError(`${set}: cleaning kept ${r.kept} of ${r.read} pairs${pct}${limit}${why}; check the corpus or relax data.clean`);
}

/**
 * Move the seeded held-out lines of the cleaned training data into the sets that have no corpus of
 * their own (`splitOff`), and the rest into train, keeping the corpus order in each.
 */
async function splitTrain(
  all: PairFiles,
  n: number,
  split: { seed: number; valid: number; test: number },
  splitOff: SetName[],
  out: (set: SetName) => PairFiles,
): Promise<void> {
  if (splitOff.length === 0) {
    fs.renameSync(all.src, out('train').src);
    fs.renameSync(all.tgt, out('train').tgt);
    return;
  }
  const held = heldOutLines(n, split.valid, split.test, split.seed);
  const writers = new Map<SetName, [LineWriter, LineWriter]>(
    (['train', ...splitOff] as SetName[]).map((set) => [set, [new LineWriter(out(set).src), new LineWriter(out(set).tgt)]]),
  );
  const src = new LineReader(all.src);
  const tgt = new LineReader(all.tgt);
  try {
    for (let i = 0; ; i++) {
      const s = await src.next();
      const t = await tgt.next();
      if (s === null || t === null) break;
      // These are our own staging files, written from decoded text a moment ago.
      if (!s.ok || !t.ok) throw new Error(`${all.src}:${i + 1}: staging file is not valid UTF-8`);
      const [ws, wt] = writers.get(held.get(i) ?? 'train')!;
      ws.write(s.text);
      wt.write(t.text);
    }
  } finally {
    src.close();
    tgt.close();
    for (const [ws, wt] of writers.values()) {
      ws.close();
      wt.close();
    }
  }
  fs.rmSync(all.src);
  fs.rmSync(all.tgt);
}
