/**
 * `mt data fetch multi30k`: download the Multi30k task-1 raw files (the only code in mt that
 * opens a socket), verify them against sha256 sums of their decompressed content, and lay them
 * out as <out>/{train,val,test2016}.{en,de,fr} for `mt prepare`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../errors.ts';
import { sha256 } from '../run/rundir.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { Logger } from '../util/log.ts';
import { startProgress } from '../util/progress.ts';

/** The pinned commit of github.com/multi30k/dataset the sums below were taken from. */
export const MULTI30K_COMMIT = 'a3d2e0d26b56f3846f66a952536ffed4e401d05a';
const MULTI30K_BASE = `https://raw.githubusercontent.com/multi30k/dataset/${MULTI30K_COMMIT}/data/task1/raw`;

export interface CorpusFile {
  /** Name in the output folder (and in a mirror). */
  name: string;
  /** Path under the upstream base URL. */
  upstream: string;
  /** sha256 of the decompressed file. */
  sha256: string;
}

const SPLITS = [
  ['train', 'train'],
  ['val', 'val'],
  ['test2016', 'test_2016_flickr'],
] as const;

const SUMS: Record<string, string> = {
  'train.en': '460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6',
  'train.de': '2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72',
  'train.fr': '5925a3c18f1587b6b54b87743106e6e8ab93618edb6f65d19eac0621f853a10d',
  'val.en': '1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227',
  'val.de': '660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660',
  'val.fr': '5304e444d842e962b2dda4d816b70b22a1765b15401642b7ca37a67477e708dc',
  'test2016.en': '399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182',
  'test2016.de': '4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16',
  'test2016.fr': 'cb3160d69b002bb638e66cc7612fcd56cb0af82eadc9c142dedc438afb885ef6',
};

export const MULTI30K_FILES: CorpusFile[] = SPLITS.flatMap(([split, upstream]) =>
  (['en', 'de', 'fr'] as const).map((lang) => ({
    name: `${split}.${lang}`,
    upstream: `${upstream}.${lang}.gz`,
    sha256: SUMS[`${split}.${lang}`]!,
  })),
);

export interface FetchOptions {
  /** Output folder. */
  out: string;
  /** An http(s) URL or a local folder with the output layout (files plain or .gz); default: upstream. */
  mirror?: string;
  log: Logger;
}

export interface FetchedFile {
  name: string;
  file: string;
  /** `present`: already there with the right sum; else where it came from. */
  source: string;
  sha256: string;
}

const DOWNLOAD_TIMEOUT_MS = 300_000;

export async function fetchMulti30k(opts: FetchOptions): Promise<FetchedFile[]> {
  const mirror = opts.mirror;
  const isUrl = mirror !== undefined && /^https?:\/\//i.test(mirror);
  if (mirror !== undefined && !isUrl && !(fs.existsSync(mirror) && fs.statSync(mirror).isDirectory())) {
    throw new UserError(`--mirror ${mirror}: not an http(s) URL or an existing folder`);
  }
  if (fs.existsSync(opts.out) && !fs.statSync(opts.out).isDirectory()) {
    throw new UserError(`--out ${opts.out}: exists and is not a folder`);
  }
  const bar = startProgress(opts.log, 'multi30k', MULTI30K_FILES.length, ['file', 'kB']);
  const fetched: FetchedFile[] = [];
  try {
    for (const [i, f] of MULTI30K_FILES.entries()) {
      bar.update(i, { file: f.name, kB: 0 });
      const target = path.join(opts.out, f.name);
      if (fs.statSync(target, { throwIfNoEntry: false })?.isFile()) {
        if (sha256(fs.readFileSync(target)) === f.sha256) {
          fetched.push({ name: f.name, file: target, source: 'present', sha256: f.sha256 });
          continue;
        }
        // A file that fails its sum is never left in place, whatever the download below does.
        opts.log.warn(`${target}: sha256 does not match, fetching it again`);
        fs.rmSync(target);
      }
      const onBytes = (n: number): void => bar.update(i, { file: f.name, kB: Math.round(n / 1024) });
      const { bytes, source } = isUrl
        ? await fromUrl(mirror.replace(/\/+$/, ''), f.name, onBytes)
        : mirror !== undefined
          ? fromFolder(mirror, f.name)
          : await fromUpstream(f, onBytes);
      const content = decompress(bytes, f.name, source);
      const got = sha256(content);
      if (got !== f.sha256) {
        throw new UserError(`${f.name}: sha256 mismatch (expected ${f.sha256}, got ${got}) for ${source}; the file was not written`);
      }
      writeFileAtomic(target, content);
      opts.log.debug(`${target}: ${content.length} bytes from ${source}, sha256 ok`);
      fetched.push({ name: f.name, file: target, source, sha256: got });
    }
    bar.update(MULTI30K_FILES.length, { file: 'done', kB: 0 });
  } finally {
    bar.stop();
  }
  return fetched;
}

function decompress(bytes: Buffer, name: string, source: string): Buffer {
  if (!(bytes[0] === 0x1f && bytes[1] === 0x8b)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new UserError(`${name}: corrupt gzip data from ${source} (${(e as { code?: string }).code ?? String(e)}); the file was not written`);
  }
}

async function fromUpstream(f: CorpusFile, onBytes: (n: number) => void): Promise<{ bytes: Buffer; source: string }> {
  const url = `${MULTI30K_BASE}/${f.upstream}`;
  const bytes = await download(url, onBytes);
  if (!bytes) throw new UserError(`${url}: not found (HTTP 404)`);
  return { bytes, source: url };
}

/** `<dir>/<name>` or `<dir>/<name>.gz`. */
function fromFolder(dir: string, name: string): { bytes: Buffer; source: string } {
  for (const candidate of [name, `${name}.gz`]) {
    const file = path.join(dir, candidate);
    if (fs.existsSync(file) && fs.statSync(file).isFile()) return { bytes: fs.readFileSync(file), source: file };
  }
  throw new UserError(`--mirror ${dir}: has neither ${name} nor ${name}.gz`);
}

/** `<base>/<name>`, or `<base>/<name>.gz` when the mirror has no plain file. */
async function fromUrl(base: string, name: string, onBytes: (n: number) => void): Promise<{ bytes: Buffer; source: string }> {
  for (const url of [`${base}/${name}`, `${base}/${name}.gz`]) {
    const bytes = await download(url, onBytes);
    if (bytes) return { bytes, source: url };
  }
  throw new UserError(`--mirror ${base}: has neither ${name} nor ${name}.gz (HTTP 404)`);
}

/** GET `url` into memory (the largest file is ~2 MB); null when the server says 404. */
async function download(url: string, onBytes: (n: number) => void): Promise<Buffer | null> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    throw new UserError(`${url}: download failed (${why}); use --mirror URL|DIR to fetch from elsewhere`);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new UserError(`${url}: download failed (HTTP ${res.status} ${res.statusText})`);
  }
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of res.body) {
      chunks.push(Buffer.from(chunk));
      received += chunk.length;
      onBytes(received);
    }
  } catch (e) {
    throw new UserError(`${url}: download interrupted after ${received} bytes (${e instanceof Error ? e.message : String(e)})`);
  }
  return Buffer.concat(chunks);
}
