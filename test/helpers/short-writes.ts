/**
 * A nearly full disk, simulated in-process: `fs.writeSync` on files (not stdout/stderr) writes at
 * most `chunk` bytes per call, as write(2) does when little space is left, and once `budget`
 * bytes are written it fails with ENOSPC. Needs no root, unlike a small tmpfs.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

export interface ShortWrites {
  /** Most bytes one call writes. */
  chunk: number;
  /** Bytes written in all before every further call fails with ENOSPC (default: no limit). */
  budget?: number;
}

export function withShortWrites<T>(limits: ShortWrites, fn: () => T): T {
  const real = fs.writeSync;
  let written = 0;
  const fake = (fd: number, data: string | NodeJS.ArrayBufferView, offsetOrPosition?: unknown, length?: unknown): number => {
    // Writes of the test runner itself (fd 1 and 2) go through untouched.
    if (fd <= 2) return (real as (...args: unknown[]) => number)(fd, data, offsetOrPosition, length);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const offset = typeof data === 'string' ? 0 : typeof offsetOrPosition === 'number' ? offsetOrPosition : 0;
    const wanted = typeof data !== 'string' && typeof length === 'number' ? length : bytes.length - offset;
    const room = (limits.budget ?? Infinity) - written;
    if (wanted > 0 && room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    const n = real(fd, bytes, offset, Math.min(wanted, limits.chunk, room));
    written += n;
    return n;
  };
  fs.writeSync = fake as typeof fs.writeSync;
  syncBuiltinESMExports(); // so that `import * as fs` in the code under test sees the fake
  try {
    return fn();
  } finally {
    fs.writeSync = real;
    syncBuiltinESMExports();
  }
}
