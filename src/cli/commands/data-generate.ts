/** `mt data generate NAME`: write a generated parallel corpus (en-ko, copy, reverse, sort) as split files. */
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import {
  GENERATED_NAMES,
  generateCorpus,
  isGeneratedName,
  summarizeCorpus,
  writeCorpus,
  type GenerateOptions,
} from '../../data/generate/index.ts';
import { UserError } from '../../errors.ts';
import { startProgress } from '../../util/progress.ts';
import { loggerFor } from '../common.ts';

interface GenerateFlags {
  pairs: string;
  seed: string;
  out?: string;
  validSize?: string;
  testSize?: string;
  maxWords?: string;
  longFraction?: string;
  register: 'plain' | 'polite';
  structure?: boolean;
}

function parseNumber(value: string | undefined, flag: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UserError(`${flag}: expected ${integer ? 'an integer' : 'a number'}, got '${value}'`);
  }
  return n;
}

export function registerDataGenerate(data: Command): void {
  data
    .command('generate')
    .description('write a generated corpus: en-ko (English→Korean from a synchronous grammar, 3 to 60+ words) or copy/reverse/sort tasks')
    .argument('<name>', `one of: ${GENERATED_NAMES.join(', ')}`)
    .requiredOption('--pairs <n>', 'pairs in all splits together')
    .option('--seed <n>', 'random seed: the same seed gives the same corpus', '1234')
    .option('--out <dir>', 'output folder (default: corpora/generated-<name>)')
    .option('--valid-size <n>', 'validation pairs (default: 5% of --pairs, 1 to 1000)')
    .option('--test-size <n>', 'test pairs (default: 5% of --pairs, 1 to 1000)')
    .option('--max-words <n>', 'en-ko: longest drawn sentence length in English words (default 60); tasks: longest sequence (default 15)')
    .option('--long-fraction <p>', 'en-ko: share of sentences drawn longer than 30 words (default 0.3)')
    .addOption(new Option('--register <style>', 'en-ko: Korean sentence endings').choices(['plain', 'polite']).default('plain'))
    .option('--structure', 'en-ko: also write {split}.structure.jsonl (parse and word alignment of each pair)')
    .action((name: string, flags: GenerateFlags, cmd: Command) => {
      const log = loggerFor(cmd);
      if (!isGeneratedName(name)) throw new UserError(`mt data generate ${name}: unknown corpus (expected one of: ${GENERATED_NAMES.join(', ')})`);
      const opts: GenerateOptions = {
        pairs: parseNumber(flags.pairs, '--pairs', true)!,
        seed: parseNumber(flags.seed, '--seed', true)!,
        validSize: parseNumber(flags.validSize, '--valid-size', true),
        testSize: parseNumber(flags.testSize, '--test-size', true),
        maxWords: parseNumber(flags.maxWords, '--max-words', true),
        longFraction: parseNumber(flags.longFraction, '--long-fraction', false),
        register: flags.register,
      };
      const out = flags.out ?? path.join('corpora', `generated-${name}`);
      const progress = startProgress(log, `generate ${name}`, opts.pairs);
      const corpus = generateCorpus(name, opts, (done) => progress.update(done));
      progress.update(opts.pairs);
      progress.stop();
      const files = writeCorpus(corpus, out, { structure: flags.structure, options: opts });
      const s = summarizeCorpus(corpus);
      log.result(
        { ...s, out, files },
        [
          `${name}: ${s.pairs.train} train, ${s.pairs.valid} valid, ${s.pairs.test} test pairs in ${out}`,
          `  ${corpus.srcLang}: mean ${s.src.mean_words} words, max ${s.src.max_words}`,
          `  ${corpus.tgtLang}: mean ${s.tgt.mean_words} words, max ${s.tgt.max_words}`,
        ].join('\n'),
      );
    });
}
