/**
 * Crash tests' toolkit: start the real `mt`, follow its stderr and its files, and SIGKILL it at a
 * chosen moment, as a power cut or the OOM killer would (no handler runs, nothing is flushed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MT_BIN, REPO_ROOT } from './cli.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class MtProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stderr = '';
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], opts: { cwd?: string } = {}) {
    this.child = spawn(process.execPath, [MT_BIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      // One training thread, as runMt gives: dropout masks, so exact resume, depend on the count.
      env: { MT_THREADS: '1', ...process.env },
      stdio: ['ignore', 'ignore', 'pipe'],
      // A hung child must not hang the test run.
      timeout: 180_000,
      killSignal: 'SIGKILL',
    });
    this.pid = this.child.pid!;
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.notify();
    });
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      }),
    );
  }

  /** Resolves true once `pred(stderr)` holds, false if the process exits first. */
  waitUntil(pred: (stderr: string) => boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (pred(this.stderr)) resolve(true);
        else if (this.exit) resolve(false);
        else return;
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** SIGKILL now; true if that is what ended it (false: it had already exited on its own). */
  async kill(): Promise<boolean> {
    if (!this.exit) this.child.kill('SIGKILL');
    return (await this.exited).signal === 'SIGKILL';
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Call `fn` the first time an entry named like `name` appears in (or is renamed or removed within) `dir` while `proc` runs. */
export function onEntry(proc: MtProcess, dir: string, name: RegExp, fn: () => void): void {
  fs.mkdirSync(dir, { recursive: true });
  const watcher = fs.watch(dir, (_event, file) => {
    if (file && name.test(file)) {
      watcher.close();
      fn();
    }
  });
  void proc.exited.then(() => watcher.close());
}

/** SIGKILL `proc` the moment such an entry shows up: inotify reports it while the writer is still at work. */
export function killOnEntry(proc: MtProcess, dir: string, name: RegExp): void {
  onEntry(proc, dir, name, () => proc.child.kill('SIGKILL'));
}

/** The last `step N |` line a training run printed (0 if none). */
export function lastLoggedStep(stderr: string): number {
  const steps = [...stderr.matchAll(/^step (\d+) \|/gm)].map((m) => Number(m[1]));
  return steps.length ? Math.max(...steps) : 0;
}

/** Every file under `dir` by relative path (dot-named temporaries left out), for comparing outputs. */
export function readTree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const file = path.join(dir, rel);
    if (!rel.split(path.sep).some((part) => part.startsWith('.')) && fs.statSync(file).isFile()) files.set(rel, fs.readFileSync(file));
  }
  return files;
}

/** The pid in a run directory's `.lock`, if there is one. */
export function lockOwner(runRoot: string): number | undefined {
  const file = path.join(runRoot, '.lock');
  if (!fs.existsSync(file)) return undefined;
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number }).pid;
  } catch {
    return -1; // killed between creating and filling it: empty, also stale
  }
}
