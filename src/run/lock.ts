/**
 * One writer per run directory: `mt train` (and other writing stages) hold `<run>/.lock`.
 * The lock file is created with O_EXCL; it names the owner's pid and host so a lock left by a
 * process that no longer exists (killed, machine rebooted) is recognised as stale and taken over.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors.ts';
import { fsUserError, processAlive, writeAll } from '../util/atomic.ts';

interface LockOwner {
  pid: number;
  host: string;
  stage: string;
  started_at: string;
}

export interface RunLock {
  release(): void;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/** Take the run directory's lock for `stage`, or fail with a message naming the holder. */
export function acquireRunLock(runRoot: string, stage: string): RunLock {
  const file = path.join(runRoot, '.lock');
  const me: LockOwner = { pid: process.pid, host: os.hostname(), stage, started_at: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      try {
        writeAll(fd, Buffer.from(JSON.stringify(me)));
      } catch (e) {
        // A full disk: leave no empty lock behind.
        fs.closeSync(fd);
        fs.rmSync(file, { force: true });
        throw fsUserError(e, file);
      }
      fs.closeSync(fd);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        if (readOwner(file)?.pid === process.pid) fs.rmSync(file, { force: true });
        process.off('exit', release);
      };
      process.on('exit', release);
      return { release };
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw fsUserError(e, file);
    }
    const owner = readOwner(file);
    const stale = !owner || (owner.host === me.host && !processAlive(owner.pid));
    if (!stale) {
      throw new UserError(
        `${runRoot}: run directory is in use by mt ${owner.stage} (pid ${owner.pid} on ${owner.host}, since ${owner.started_at}); wait for it or stop it`,
      );
    }
    // The owner is gone: remove its lock and try once more (another process may win the race).
    fs.rmSync(file, { force: true });
  }
  throw new UserError(`${runRoot}: could not take the run directory lock (${file}); another mt process took it first`);
}
