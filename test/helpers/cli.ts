/** Run the real `mt` binary in a child process and capture what it prints. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
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

export interface RunOptions {
  cwd?: string;
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Flags for node itself, before bin/mt.js (e.g. --import PRELOAD). */
  nodeArgs?: string[];
}

/**
 * The environment of an mt child: one training thread unless a test asks for more (two test
 * files run at once on CI's two cores, and tiny models gain nothing from worker threads).
 */
function childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MT_THREADS: '1', ...process.env, ...extra };
}

export function runMt(args: string[], opts: RunOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), MT_BIN, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    input: opts.input,
    encoding: 'utf8',
    env: childEnv(opts.env),
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * runMt without blocking the event loop: for tests that serve something in-process (an HTTP
 * mirror) or run several commands at once.
 */
export function runMtAsync(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), MT_BIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: childEnv(opts.env),
      timeout: 300_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input);
  });
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

/**
 * mt's answer to bad input: exit 2 and exactly one line `mt: error: …` matching `error`, no stack
 * trace. `maxLength` also bounds the line; a `seconds` field (a timed run) goes into the message.
 */
export function assertOneLineError(r: CliResult & { seconds?: number }, error: RegExp, opts: { maxLength?: number } = {}): void {
  const when = r.seconds === undefined ? '' : `after ${r.seconds.toFixed(1)} s, `;
  const detail = `${when}code ${r.code}, stderr: ${JSON.stringify(r.stderr.slice(0, 600))}, stdout: ${JSON.stringify(r.stdout.slice(0, 300))}`;
  assert.equal(r.code, 2, detail);
  assert.doesNotMatch(r.stderr, /^ {4}at /m, `a stack trace: ${detail}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `exactly one line: ${detail}`);
  assert.match(lines[0]!, /^mt: error: \S/, detail);
  assert.match(lines[0]!, error, detail);
  if (opts.maxLength !== undefined) assert.ok(lines[0]!.length < opts.maxLength, `a short line (${lines[0]!.length} characters): ${detail}`);
}
