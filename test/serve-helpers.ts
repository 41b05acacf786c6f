/** What the serve tests share: a tiny trained run, HTTP calls, and `mt serve` started as a child. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunDir } from '../src/run/rundir.ts';
import type { ErrorJson, HealthJson, TranslateResponseJson } from '../src/serve/api.ts';
import type { ModelJson } from '../src/serve/server.ts';
import { train } from '../src/train/trainer.ts';
import { MT_BIN, REPO_ROOT } from './helpers/cli.ts';
import { TINY_MODELS, quietLog, tinyConfig, tinyRun } from './train-fixture.ts';

/** Sentences of the fixture's made-up words, of several lengths. */
export const SENTENCES = ['ka lo mi', 'nu pe ri so tu va', 'ze', 'bo di ka lo', 'mi nu', 'pe ri so', 'tu va ze bo di', 'so', 'ka ka lo lo', 'di bo ze va tu so'];

/** A tiny model (attention, unless `model` says otherwise) trained for `steps` steps (a few: the outputs need only be deterministic). */
export async function trainedRun(steps = 3, dir?: string, trainSettings: Record<string, unknown> = {}, model: object = TINY_MODELS.attention): Promise<RunDir> {
  const config = tinyConfig(model, { max_steps: steps, ...trainSettings });
  const run = await tinyRun({ ...config, decode: { ...(config.decode as object), batch_size: 4, beam_size: 3 } }, dir);
  await train(run, { log: quietLog() });
  return run;
}

export function removeRun(run: RunDir | undefined): void {
  if (run) fs.rmSync(path.dirname(run.root), { recursive: true, force: true });
}

/** A JSON body of this server: each route's answer, or an error. */
export type ServeJson = TranslateResponseJson | HealthJson | ModelJson | ErrorJson;

export interface Reply<T extends ServeJson | string = TranslateResponseJson> {
  status: number;
  headers: Headers;
  /** The parsed JSON (the text itself where it is not JSON: the page), taken to be a `T` (the test then checks it). */
  body: T;
}

/**
 * A JSON call; `body` a string is sent as it is. `T` is the answer the caller expects (default:
 * a translation); `call<ErrorJson>` where an error is expected, `call<HealthJson>` for /v1/health …
 */
export async function call<T extends ServeJson | string = TranslateResponseJson>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  const r = await fetch(url, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), body, headers: { 'content-type': 'application/json', ...init.headers } });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // the page, or an empty body
  }
  return { status: r.status, headers: r.headers, body: parsed as T };
}

/** The error code of an error answer (undefined for any other answer). */
export function errorCode(r: Reply<ServeJson | string>): string | undefined {
  return typeof r.body === 'object' && 'error' in r.body ? r.body.error.code : undefined;
}

export interface ServeChild {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `mt serve --run DIR --port 0 ARGS` as a child process, once it says where it listens. */
export function startServeChild(runDir: string, args: string[] = []): Promise<ServeChild> {
  const child = spawn(process.execPath, [MT_BIN, 'serve', '--run', runDir, '--port', '0', ...args], { cwd: REPO_ROOT, env: { MT_THREADS: '1', ...process.env } });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/\S+?)\/?\n/.exec(stdout);
      if (m) resolve({ child, url: m[1]!, stderr: () => stderr, exited });
    });
    void exited.then((code) => reject(new Error(`mt serve exited (${code}) before listening: ${stderr}`)));
  });
}
