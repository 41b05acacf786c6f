/** Mounts for the full-disk and read-only tests: only root can make them, and only where allowed. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tempDir } from './cli.ts';

/** Why `what` (e.g. "a small tmpfs") cannot be mounted here, or undefined when it can. */
export function mountUnavailable(what: string): string | undefined {
  if (process.getuid?.() !== 0) return `needs root to mount ${what}`;
  const probe = tempDir('mt-mount-probe-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `mount is not allowed here (${(r.stderr || r.error?.message || '').trim()})`;
  spawnSync('umount', [probe]);
  return undefined;
}

/** Run a command that must succeed (mount, umount, …). */
export function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}
