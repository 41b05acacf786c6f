/**
 * Atomic file writes: write to a temp file in the same directory, fsync, rename.
 * A crash at any point leaves either the old file or the new one, never a mix. A full disk, a
 * read-only or non-writable folder fails the same way, as a one-line UserError naming the path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors.ts';

let counter = 0;

/** Filesystem failures the user can fix (full disk, permissions, read-only mount, a path in the way), as they should read. */
const FIXABLE_FS_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/**
 * A one-line UserError naming the path for a filesystem failure the user can fix, else `e` as it is.
 * Writes through a file descriptor carry no path, so writers pass the file they were writing.
 */
export function fsUserError(e: unknown, file?: string): unknown {
  if (typeof e !== 'object' || e === null) return e;
  const { code, path: errPath } = e as NodeJS.ErrnoException;
  const what = code === undefined ? undefined : FIXABLE_FS_ERRORS[code];
  const where = file ?? errPath;
  return what && where ? new UserError(`${where}: ${what}`) : e;
}

/**
 * mkdir -p, one level at a time: a recursive mkdirSync reports ENOENT on a read-only or
 * non-writable parent, where this names the real cause (and a file in the way as such).
 */
function ensureDir(dir: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir, { throwIfNoEntry: false });
  } catch (e) {
    throw fsUserError(e, dir); // ENOTDIR: a file further up
  }
  if (st?.isDirectory()) return;
  if (st) throw new UserError(`${dir}: cannot create folder: a file is in the way`);
  const parent = path.dirname(dir);
  if (parent !== dir) ensureDir(parent);
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsUserError(e, dir);
  }
}

/** Whether process `pid` exists (EPERM: it does, but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove what killed writers left next to `target`: entries named `.<name>.<pid>.…` (the temp
 * names below, and prepare's staging folder) whose process no longer exists. Without this a
 * crash leaves a whole copy of the output behind, every time. A live writer's are kept.
 */
export function removeDeadTemps(target: string): void {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return; // no folder yet, nothing left behind
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)\./.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid === undefined || processAlive(Number(pid))) continue;
    try {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    } catch {
      // Best effort: a leftover is litter, not a reason to fail the write (e.g. a read-only folder).
    }
  }
}

function tempPathFor(target: string): string {
  counter += 1;
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${counter}.tmp`);
}

/** Hook for tests that simulate a crash between writing the temp file and renaming it. */
export interface AtomicWriteHooks {
  beforeRename?: (tempPath: string) => void;
}

/**
 * Write all of `bytes` at the file's position. write(2) on a nearly full disk writes less than
 * asked and succeeds; only the next call fails with ENOSPC, so one call is not enough.
 */
export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) {
    const n = fs.writeSync(fd, bytes, done, bytes.length - done);
    // Nothing written and no error: treat as a full disk rather than loop forever.
    if (n <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    done += n;
  }
}

export function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  hooks: AtomicWriteHooks = {},
): void {
  ensureDir(path.dirname(target));
  const tmp = tempPathFor(target);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    hooks.beforeRename?.(tmp);
    fs.renameSync(tmp, target);
  } catch (e) {
    // A full disk leaves a partial temp file: remove it, and keep the old target as it was.
    fs.rmSync(tmp, { force: true });
    throw fsUserError(e, target);
  }
  fsyncDir(path.dirname(target));
}

export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Atomically replace a whole directory: the caller fills a temp sibling directory,
 * then it is renamed into place (the old one, if any, is moved aside first and removed after).
 */
export function replaceDirAtomic(target: string, fill: (tmpDir: string) => void): void {
  const parent = path.dirname(target);
  ensureDir(parent);
  removeDeadTemps(target);
  const tmp = tempPathFor(target);
  const old = tempPathFor(target) + '.old';
  let movedAside = false;
  try {
    fs.mkdirSync(tmp);
    fill(tmp);
    if (fs.existsSync(target)) {
      fs.renameSync(target, old);
      movedAside = true;
    }
    fs.renameSync(tmp, target);
  } catch (e) {
    if (movedAside) fs.renameSync(old, target);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw fsUserError(e, target);
  }
  if (movedAside) fs.rmSync(old, { recursive: true, force: true });
  fsyncDir(parent);
}

/** Append one line (e.g. a JSON log record); appends of one small write are atomic on POSIX. */
export function appendLine(target: string, line: string): void {
  ensureDir(path.dirname(target));
  try {
    fs.appendFileSync(target, line.endsWith('\n') ? line : line + '\n');
  } catch (e) {
    throw fsUserError(e, target);
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  }
}
