/** `mt config validate|show`: check a config and print it with every default filled in. */
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { ConfigError, formatProblem, loadConfigFile } from '../../config/load.ts';
import { loggerFor } from '../common.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('validate a config file or show it fully resolved');

  config
    .command('validate')
    .description('check a config; every problem is listed as file:line:col: key: what is wrong (exit 2 if any)')
    .argument('<file>', 'experiment config (YAML)')
    .option('--set <key=value>', 'override a value before validating (repeatable)', collect, [])
    .action((file: string, opts: { set: string[] }, cmd: Command) => {
      const log = loggerFor(cmd);
      try {
        const { config: c } = loadConfigFile(file, { overrides: opts.set });
        log.result({ file, valid: true, model: c.model.type }, `${file}: ok (model: ${c.model.type}, ${c.data.src_lang}→${c.data.tgt_lang})`);
      } catch (e) {
        if (e instanceof ConfigError && e.problems.length > 1 && !log.opts.json) {
          // All but the last go to stderr here; the last becomes the error line (exit 2).
          for (const p of e.problems.slice(0, -1)) process.stderr.write(`mt: error: ${formatProblem(p)}\n`);
          throw new ConfigError(e.problems.slice(-1));
        }
        throw e;
      }
    });

  config
    .command('show')
    .description('print the resolved config (defaults filled in, paths absolute) as YAML, or JSON with --json')
    .argument('<file>', 'experiment config (YAML)')
    .option('--set <key=value>', 'override a value (repeatable)', collect, [])
    .action((file: string, opts: { set: string[] }, cmd: Command) => {
      const log = loggerFor(cmd);
      const { config: c } = loadConfigFile(file, { overrides: opts.set });
      log.result(c, toYaml(c));
    });
}
