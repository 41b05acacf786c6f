/** `mt data fetch multi30k`: download a public corpus, verify it, and lay it out for `mt prepare`. */
import * as path from 'node:path';
import type { Command } from 'commander';
import { fetchMulti30k } from '../../data/fetch.ts';
import { UserError } from '../../errors.ts';
import { loggerFor } from '../common.ts';

const CORPORA = ['multi30k'];

export function registerDataFetch(data: Command): void {
  data
    .command('fetch')
    .description('download a public corpus (multi30k: task-1 train/val/test2016 in en, de, fr) and verify its sha256 sums')
    .argument('<corpus>', `one of: ${CORPORA.join(', ')}`)
    .option('--out <dir>', 'output folder (default: corpora/<corpus>, relative to the current folder)')
    .option('--mirror <url|dir>', 'fetch from an http(s) mirror or a local folder with the same layout (files plain or .gz)')
    .action(async (corpus: string, opts: { out?: string; mirror?: string }, cmd: Command) => {
      const log = loggerFor(cmd);
      if (!CORPORA.includes(corpus)) throw new UserError(`mt data fetch ${corpus}: unknown corpus (expected one of: ${CORPORA.join(', ')})`);
      const out = opts.out ?? path.join('corpora', corpus);
      const files = await fetchMulti30k({ out, mirror: opts.mirror, log });
      const fetched = files.filter((f) => f.source !== 'present').length;
      log.result(
        { corpus, out, files },
        `${corpus}: ${files.length} files in ${out} (${fetched} fetched, ${files.length - fetched} already there; sha256 verified)`,
      );
    });
}
