/**
 * What the browser bundle gets for `fs`, `path` and `module`: an in-memory file table, filled by
 * the page before it opens a file. Only what the shared code reaches in the browser is here:
 * SentencePieceModel.load (src/subword/sentencepiece.ts) stats, reads and resolves the .model
 * file, and @agnai/sentencepiece-js reads it again with fs.readFileSync. Everything else throws.
 */
const FILES = new Map<string, Uint8Array>();

/** Make `bytes` readable at `name` (what SentencePieceModel.load is then given). */
export function putFile(name: string, bytes: Uint8Array): void {
  FILES.set(name, bytes);
}

function missing(name: string): Error {
  return Object.assign(new Error(`ENOENT: ${name} (not in the page's file table)`), { code: 'ENOENT' });
}

export function existsSync(name: string): boolean {
  return FILES.has(name);
}

export function statSync(name: string) {
  const bytes = FILES.get(name);
  if (!bytes) throw missing(name);
  return { size: bytes.length, isFile: () => true, isDirectory: () => false, isCharacterDevice: () => false };
}

export function readFileSync(name: string): Uint8Array {
  const bytes = FILES.get(name);
  if (!bytes) throw missing(name);
  return bytes;
}

// path: names in the file table are already what they are.
export const sep = '/';
export function resolve(...parts: string[]): string {
  return parts.join('/');
}
export function join(...parts: string[]): string {
  return parts.join('/');
}
export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
export function dirname(p: string): string {
  return p.slice(0, Math.max(0, p.lastIndexOf('/')));
}

// module: only on sentencepiece-js's Node branch, never taken in a browser.
export function createRequire(): never {
  throw new Error('require() is not available in the browser bundle');
}

export default { putFile, existsSync, statSync, readFileSync, sep, resolve, join, basename, dirname, createRequire, fileURLToPath };

// url: likewise only on Node branches (sentencepiece-js locating itself by __filename).
export function fileURLToPath(u: string): string {
  return String(u);
}
export const URL = globalThis.URL;
