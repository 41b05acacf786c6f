/**
 * What a test needs from outside the repository — the corpora in ../shared, a Debian tool — and
 * the one-line reason it is skipped where that is absent. A fresh clone has neither, and its
 * `npm test` must still pass; CI has both and sets MT_TEST_REQUIRE_ALL=1, which turns every such
 * skip into a failure, so nothing is silently left out there.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SHARED } from './cli.ts';

/** `reason` where MT_TEST_REQUIRE_ALL is unset; a thrown error (a failing test file) where it is set. */
function skipOrFail(reason: string): string {
  if (process.env.MT_TEST_REQUIRE_ALL === '1') throw new Error(`MT_TEST_REQUIRE_ALL=1 but ${reason}`);
  return reason;
}

/** undefined when every path (relative to ../shared) exists, else why the test is skipped. */
export function missingShared(...relPaths: string[]): string | undefined {
  const missing = relPaths.filter((p) => !fs.existsSync(path.join(SHARED, p)));
  if (missing.length === 0) return undefined;
  return skipOrFail(`needs ../shared/${missing.join(', ../shared/')} beside the checkout (not here)`);
}

/** undefined when `tool` runs, else why the test is skipped (naming the Debian package). */
export function missingTool(tool: string, debianPackage: string): string | undefined {
  const r = spawnSync(tool, ['--help'], { stdio: 'ignore' });
  if (!r.error) return undefined;
  return skipOrFail(`needs ${tool} (apt-get install ${debianPackage})`);
}

/** The lines of a file under ../shared (call only where missingShared said it is there). */
export function sharedLines(relPath: string, limit = Infinity): string[] {
  const all = fs.readFileSync(path.join(SHARED, relPath), 'utf8').split('\n');
  if (all.at(-1) === '') all.pop();
  return all.slice(0, limit);
}

/** Where the browser tests find Chromium (Debian's `chromium` package). */
export const CHROMIUM = '/usr/bin/chromium';

/** undefined when Debian's Chromium is installed, else why the browser test is skipped. */
export function missingChromium(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  return skipOrFail(`needs ${CHROMIUM} (apt-get install chromium)`);
}

/**
 * Headless Debian Chromium driven by puppeteer-core (which downloads no browser). `gpu: 'software'`
 * runs WebGL on SwiftShader instead of turning the GPU off. The background-networking flags keep it
 * from dialling out, which this machine refuses.
 */
export async function launchChromium(gpu: 'off' | 'software' = 'off'): Promise<import('puppeteer-core').Browser> {
  const puppeteer = await import('puppeteer-core');
  const gpuArgs = gpu === 'off' ? ['--disable-gpu'] : ['--enable-unsafe-swiftshader', '--use-angle=swiftshader'];
  return puppeteer.default.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', ...gpuArgs, '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}
