/**
 * Reading corpus files line by line, exactly. Bytes are split on LF only (a lone CR stays in the
 * line, for the cleaner to see), one trailing CR is dropped (CRLF files), a UTF-8 BOM is dropped
 * from the first line, and every line is decoded strictly, so invalid UTF-8 is found rather than
 * silently replaced. Plain and gzip files (told apart by their magic bytes) are streamed: memory
 * does not grow with the file. `mt prepare`, `mt translate` and `mt eval` all read through it; the
 * last two also read pipes and stdin (`-`), and bound the length of a line.
 *
 * This module is the one place mt reads a text file into lines: `LineReader` streams them,
 * `readLines` reads a user's whole file by the rules above, and `readLinesSync` reads back the
 * files mt wrote itself (a run's prepared data), which prepare has already checked.
 */
import * as fs from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UserError } from '../errors.ts';

/** A decoded line, or what is wrong with its bytes. */
export type Line = { ok: true; text: string } | { ok: false; problem: string };

const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The most bytes `mt translate` and `mt eval` read as one line: more is not a sentence (e.g. /dev/zero, a binary). */
export const MAX_LINE_BYTES = 1 << 20;

export interface ReadOptions {
  /** Also accept a pipe (FIFO or socket), as `-i <(cmd)` or stdin give; never a device. */
  pipes?: boolean;
  /** A longer line is an error naming it (unbounded when absent). */
  maxLineBytes?: number;
}

/**
 * Check that `file` is a readable regular file (or, with `pipes`, a pipe); returns its size in
 * bytes (0 for a pipe). A character device (/dev/zero, /dev/urandom) would never end.
 */
export function checkInputFile(file: string, opts: ReadOptions = {}): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`}`);
  }
  return checkStats(file, st, opts);
}

function checkStats(file: string, st: fs.Stats, opts: ReadOptions): number {
  if (st.isDirectory()) throw new UserError(`${file}: is a directory, expected a text file`);
  if (st.isFile()) return st.size;
  if (opts.pipes && (st.isFIFO() || st.isSocket())) return 0;
  if (st.isCharacterDevice()) throw new UserError(`${file}: a character device, not a text file${opts.pipes ? ' or pipe' : ''}`);
  throw new UserError(`${file}: not a regular file`);
}

/** stdin as a line source: a file or pipe; a terminal is read too (typed lines), another device is not. */
function checkStdin(opts: ReadOptions): void {
  let st: fs.Stats;
  try {
    st = fs.fstatSync(0);
  } catch (e) {
    throw new UserError(`stdin: cannot read (${errorText(e)})`);
  }
  if (!(st.isCharacterDevice() && process.stdin.isTTY)) checkStats('stdin', st, { ...opts, pipes: true });
}

function isGzip(file: string): boolean {
  const head = Buffer.alloc(2);
  try {
    const fd = fs.openSync(file, 'r');
    try {
      return fs.readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw new UserError(`${file}: cannot read (${errorText(e)})`);
  }
}

export class LineReader {
  /** The file as given, or `stdin` for `-`: how messages name it. */
  readonly file: string;
  /** Size on disk (compressed size for gzip files; 0 for a pipe). */
  readonly size: number;
  /** Number of lines returned so far: the 1-based number of the last one. */
  lineNo = 0;
  private readonly raw: Readable & { bytesRead?: number };
  private readonly chunks: AsyncIterator<Buffer>;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly maxLineBytes: number;
  private ready: Line[] = [];
  private readyPos = 0;
  /** Bytes after the last LF seen so far: the start of a line (in pieces, so long lines stay linear). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private ended = false;

  /** `file` is a path, or `-` for stdin. */
  constructor(file: string, opts: ReadOptions = {}) {
    this.maxLineBytes = opts.maxLineBytes ?? Infinity;
    if (file === '-') {
      checkStdin(opts);
      this.file = 'stdin';
      this.size = 0;
      this.raw = process.stdin;
      this.chunks = this.raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      return;
    }
    this.file = file;
    this.size = checkInputFile(file, opts);
    this.raw = fs.createReadStream(file, { highWaterMark: 1 << 16 });
    // A pipe cannot be peeked at for gzip's magic bytes without losing them.
    const gzip = fs.statSync(file).isFile() && isGzip(file);
    // pipeline() destroys the gunzip stream with the error of either side, so iteration rejects.
    const source = gzip ? pipeline(this.raw, createGunzip(), () => {}) : this.raw;
    this.chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Bytes read from disk so far, for progress bars. */
  get bytesRead(): number {
    return this.raw.bytesRead ?? 0;
  }

  /** The next line if it has been read already, else null (whether or not more will come). */
  nextBuffered(): Line | null {
    if (this.readyPos >= this.ready.length) return null;
    this.lineNo += 1;
    return this.ready[this.readyPos++]!;
  }

  /** The next line, or null at the end of the file. */
  async next(): Promise<Line | null> {
    while (this.readyPos >= this.ready.length) {
      if (this.ended) return null;
      await this.fill();
    }
    this.lineNo += 1;
    return this.ready[this.readyPos++]!;
  }

  /** Read to the end and return the number of lines (for "a has N lines, b has M" messages). */
  async countRest(): Promise<number> {
    while ((await this.next()) !== null);
    return this.lineNo;
  }

  /** Stop reading early and release the file. */
  close(): void {
    void this.chunks.return?.();
  }

  private async fill(): Promise<void> {
    let result: IteratorResult<Buffer>;
    try {
      result = await this.chunks.next();
    } catch (e) {
      const what = (e as { code?: string }).code?.startsWith('Z_') ? 'corrupt gzip data' : errorText(e);
      throw new UserError(`${this.file}: cannot read (${what})`);
    }
    let block: Buffer;
    if (result.done) {
      this.ended = true;
      block = Buffer.concat(this.partial);
      this.partial = [];
    } else {
      const chunk = result.value;
      const end = chunk.lastIndexOf(LF) + 1;
      if (end === 0) {
        this.partial.push(chunk);
        this.partialBytes += chunk.length;
        // Checked as it grows: a line without end (/dev/zero through a pipe) must not fill memory.
        if (this.partialBytes > this.maxLineBytes) throw this.tooLong(this.lineNo + 1);
        return;
      }
      block = this.partial.length > 0 ? Buffer.concat([...this.partial, chunk.subarray(0, end)]) : chunk.subarray(0, end);
      // Copy the tail so the chunk it points into can be freed.
      this.partial = end < chunk.length ? [Buffer.from(chunk.subarray(end))] : [];
      this.partialBytes = chunk.length - end;
    }
    if (block.length > this.maxLineBytes) this.checkLengths(block);
    this.ready = this.decodeBlock(block);
    this.readyPos = 0;
  }

  /** Fail on the first line of `block` (whole lines) longer than the bound. */
  private checkLengths(block: Buffer): void {
    for (let start = 0, n = this.lineNo + 1; start < block.length; n++) {
      const nl = block.indexOf(LF, start);
      const end = nl < 0 ? block.length : nl;
      if (end - start > this.maxLineBytes) throw this.tooLong(n);
      start = end + 1;
    }
  }

  private tooLong(lineNo: number): UserError {
    return new UserError(`${this.file}:${lineNo}: longer than ${this.maxLineBytes} bytes, the most mt reads as one line (not a text file with one sentence per line?)`);
  }

  /**
   * The lines of a block of whole lines (the last one may lack its LF only at the end of the file).
   * Fast path: one strict decode of the whole block. A block is valid UTF-8 without NUL exactly when
   * each of its lines is (LF never occurs inside a multi-byte character), so only a block that
   * fails is decoded line by line, to find and report its bad lines.
   */
  private decodeBlock(block: Buffer): Line[] {
    if (block.length === 0) return [];
    const first = this.lineNo + 1;
    if (block.indexOf(0) < 0) {
      let text: string | undefined;
      try {
        text = this.decoder.decode(block);
      } catch {
        // Some line is invalid: fall through to decoding line by line.
      }
      if (text !== undefined) {
        const parts = text.split('\n');
        if (parts[parts.length - 1] === '') parts.pop();
        if (first === 1 && parts[0]!.startsWith('\uFEFF')) parts[0] = parts[0]!.slice(1);
        return parts.map((t) => ({ ok: true, text: t.endsWith('\r') ? t.slice(0, -1) : t }));
      }
    }
    const lines: Line[] = [];
    let start = 0;
    while (start < block.length) {
      const nl = block.indexOf(LF, start);
      const end = nl < 0 ? block.length : nl;
      lines.push(this.decodeLine(block.subarray(start, end), first + lines.length));
      start = end + 1;
    }
    return lines;
  }

  private decodeLine(bytes: Buffer, lineNo: number): Line {
    let b = bytes;
    if (b.length > 0 && b[b.length - 1] === CR) b = b.subarray(0, b.length - 1);
    if (lineNo === 1 && b.subarray(0, 3).equals(BOM)) b = b.subarray(3);
    // UTF-16's byte-order mark: said plainly, since its NUL bytes would be reported instead.
    if (lineNo === 1 && b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff))) {
      return { ok: false, problem: 'UTF-16 text; mt reads UTF-8 (convert it, e.g. iconv -f UTF-16 -t UTF-8)' };
    }
    const nul = b.indexOf(0);
    if (nul >= 0) return { ok: false, problem: `NUL byte at byte ${nul + 1}` };
    try {
      return { ok: true, text: this.decoder.decode(b) };
    } catch {
      return { ok: false, problem: 'invalid UTF-8' };
    }
  }
}

/**
 * The lines of a UTF-8 text file or pipe (`-` reads stdin), by the rules above: split on LF only,
 * a final newline does not start another line, a CRLF's CR and a leading byte-order mark are not
 * text; nothing else is stripped (the metrics, for one, define their own whitespace handling).
 * Invalid UTF-8 and NUL bytes (a binary or mis-encoded file) and a line over MAX_LINE_BYTES are
 * errors naming the line, not text that would quietly change what is computed from it.
 */
export async function readLines(file: string): Promise<string[]> {
  const reader = new LineReader(file, { pipes: true, maxLineBytes: MAX_LINE_BYTES });
  const lines: string[] = [];
  try {
    for (let line = await reader.next(); line !== null; line = await reader.next()) {
      if (!line.ok) throw new UserError(`${reader.file}:${reader.lineNo}: ${line.problem}${line.problem.startsWith('NUL') ? ' (not a text file?)' : ''}`);
      lines.push(line.text);
    }
  } finally {
    reader.close();
  }
  return lines;
}

/**
 * The lines of a file already known to be clean text — a run's prepared data, which `mt prepare`
 * wrote and checked — read at once without the checks above: split on LF, a final newline does
 * not start another line.
 */
export function readLinesSync(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new UserError(`${file}: no such file`);
    throw e;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function errorText(e: unknown): string {
  return (e as { code?: string }).code ?? (e instanceof Error ? e.message.split('\n')[0]! : String(e));
}
