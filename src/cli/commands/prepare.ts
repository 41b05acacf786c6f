/** `mt prepare`: clean, filter and split the configured corpora into the run directory's data/. */
import type { Command } from 'commander';
import { prepareData } from '../../data/prepare.ts';
import { formatReport } from '../../data/report.ts';
import { acquireRunLock } from '../../run/lock.ts';
import { LAYOUT } from '../../run/rundir.ts';
import { loggerFor, openStageRun, withConfigOptions, type StageOptions } from '../common.ts';

export function registerPrepare(program: Command): void {
  withConfigOptions(
    program
      .command('prepare')
      .description('clean, filter and split the parallel corpora into <run>/data (report: data/report.json)'),
  ).action(async (opts: StageOptions, cmd: Command) => {
    const log = loggerFor(cmd);
    const run = openStageRun(opts, log);
    log.toFile(run.path(LAYOUT.logs, 'prepare.log'));
    const lock = acquireRunLock(run.root, 'prepare');
    let report;
    try {
      report = await prepareData(run, log);
    } finally {
      lock.release();
    }
    log.info(formatReport(report));
    const { train, valid, test } = report.output;
    log.result(report, `prepared ${run.path(LAYOUT.data)}: ${train} train, ${valid} valid, ${test} test pairs`);
  });
}
