/** Run the real `mt` binary in a child process and capture what it prints. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MT_BIN = path.join(REPO_ROOT, 'bin', 'mt.js');
export const SHARED = path.resolve(REPO_ROOT, '..', 'shared');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runMt(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [MT_BIN, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    input: opts.input,
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = 'mt-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A minimal valid config, as YAML text, pointing at files in `dir`. */
export function minimalConfigYaml(extra = ''): string {
  return [
    'data:',
    '  src_lang: de',
    '  tgt_lang: en',
    '  train: [{ src: train.de, tgt: train.en }]',
    'model:',
    '  type: attention',
    '  hidden_size: 64',
    extra,
  ].join('\n');
}
