/**
 * Atomic file writes: write to a temp file in the same directory, fsync, rename.
 * A crash at any point leaves either the old file or the new one, never a mix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

let counter = 0;

function tempPathFor(target: string): string {
  counter += 1;
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${counter}.tmp`);
}

/** Hook for tests that simulate a crash between writing the temp file and renaming it. */
export interface AtomicWriteHooks {
  beforeRename?: (tempPath: string) => void;
}

export function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  hooks: AtomicWriteHooks = {},
): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    hooks.beforeRename?.(tmp);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
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
  fs.mkdirSync(parent, { recursive: true });
  const tmp = tempPathFor(target);
  fs.mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = fs.existsSync(target) ? tempPathFor(target) + '.old' : undefined;
  if (old) fs.renameSync(target, old);
  fs.renameSync(tmp, target);
  if (old) fs.rmSync(old, { recursive: true, force: true });
  fsyncDir(parent);
}

/** Append one line (e.g. a JSON log record); appends of one small write are atomic on POSIX. */
export function appendLine(target: string, line: string): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.appendFileSync(target, line.endsWith('\n') ? line : line + '\n');
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
