/**
 * Parallel corpora as a stream of sentence pairs: two line-aligned files, or one TSV file.
 * Structural problems (missing or empty files, line counts that differ, a TSV row with the wrong
 * number of fields) are errors. Lines whose bytes are invalid (bad UTF-8, NUL) fail the run or,
 * with `on_invalid_utf8: skip`, drop the pair and say where, so the caller can count and report it.
 */
import type { Corpus } from '../config/sections/data.ts';
import { UserError } from '../errors.ts';
import { LineReader, type Line } from './lines.ts';

export interface Pair {
  src: string;
  tgt: string;
}

/** A pair, or the `file:line: problem` places of a pair that was skipped. */
export type CorpusItem = { pair: Pair } | { skipped: string[] };

export type OnInvalid = 'fail' | 'skip';

export interface CorpusReader {
  /** Bytes on disk, and bytes read so far (for progress bars). */
  readonly size: number;
  readonly bytesRead: number;
  /** The next pair, or null at the end. */
  next(): Promise<CorpusItem | null>;
  close(): void;
}

export function openCorpus(corpus: Corpus, onInvalid: OnInvalid): CorpusReader {
  return 'tsv' in corpus
    ? new TsvCorpus(corpus.tsv, corpus.src_column, corpus.tgt_column, onInvalid)
    : new AlignedCorpus(corpus.src, corpus.tgt, onInvalid);
}

export function corpusFiles(corpus: Corpus): string[] {
  return 'tsv' in corpus ? [corpus.tsv] : [corpus.src, corpus.tgt];
}

export function corpusName(corpus: Corpus): string {
  return corpusFiles(corpus).join(' + ');
}

/** Fail on the first bad line, or return the places of the bad lines of a pair to skip. */
function badLines(onInvalid: OnInvalid, sides: [LineReader, Line][]): string[] {
  const places: string[] = [];
  for (const [reader, line] of sides) {
    if (line.ok) continue;
    const place = `${reader.file}:${reader.lineNo}: ${line.problem}`;
    if (onInvalid === 'fail') {
      throw new UserError(`${place} (set data.clean.on_invalid_utf8: skip to drop such pairs)`);
    }
    places.push(place);
  }
  return places;
}

function emptyFile(file: string): UserError {
  return new UserError(`${file}: empty file (no lines)`);
}

class AlignedCorpus implements CorpusReader {
  readonly size: number;
  private readonly src: LineReader;
  private readonly tgt: LineReader;

  constructor(
    srcFile: string,
    tgtFile: string,
    private readonly onInvalid: OnInvalid,
  ) {
    this.src = new LineReader(srcFile);
    this.tgt = new LineReader(tgtFile);
    this.size = this.src.size + this.tgt.size;
  }

  get bytesRead(): number {
    return this.src.bytesRead + this.tgt.bytesRead;
  }

  async next(): Promise<CorpusItem | null> {
    const s = await this.src.next();
    const t = await this.tgt.next();
    if (s === null || t === null) {
      if (s === null && this.src.lineNo === 0) throw emptyFile(this.src.file);
      if (t === null && this.tgt.lineNo === 0) throw emptyFile(this.tgt.file);
      if (s === null && t === null) return null;
      // One file ended first: count the rest of the other so the message has both line counts.
      const [srcLines, tgtLines] = await Promise.all([this.src.countRest(), this.tgt.countRest()]);
      throw new UserError(
        `${this.src.file} has ${srcLines} lines but ${this.tgt.file} has ${tgtLines}; the two sides of a corpus must be line-aligned`,
      );
    }
    if (!s.ok || !t.ok) {
      return {
        skipped: badLines(this.onInvalid, [
          [this.src, s],
          [this.tgt, t],
        ]),
      };
    }
    return { pair: { src: s.text, tgt: t.text } };
  }

  close(): void {
    this.src.close();
    this.tgt.close();
  }
}

/**
 * A TSV file: every line must have as many tab-separated fields as the first, which catches a
 * stray TAB inside a sentence instead of silently shifting its columns.
 */
class TsvCorpus implements CorpusReader {
  private readonly reader: LineReader;
  /** Fields per line, and the line that set it. */
  private fields = 0;
  private fieldsLine = 0;

  constructor(
    file: string,
    private readonly srcColumn: number,
    private readonly tgtColumn: number,
    private readonly onInvalid: OnInvalid,
  ) {
    this.reader = new LineReader(file);
  }

  get size(): number {
    return this.reader.size;
  }

  get bytesRead(): number {
    return this.reader.bytesRead;
  }

  async next(): Promise<CorpusItem | null> {
    const line = await this.reader.next();
    if (line === null) {
      if (this.reader.lineNo === 0) throw emptyFile(this.reader.file);
      return null;
    }
    if (!line.ok) return { skipped: badLines(this.onInvalid, [[this.reader, line]]) };
    const cols = line.text.split('\t');
    const where = `${this.reader.file}:${this.reader.lineNo}`;
    if (this.fields === 0) {
      const needed = Math.max(this.srcColumn, this.tgtColumn);
      if (cols.length < needed) {
        throw new UserError(`${where}: expected at least ${needed} tab-separated fields (src_column ${this.srcColumn}, tgt_column ${this.tgtColumn}), found ${cols.length}`);
      }
      this.fields = cols.length;
      this.fieldsLine = this.reader.lineNo;
    } else if (cols.length !== this.fields) {
      throw new UserError(`${where}: expected ${this.fields} tab-separated fields (as on line ${this.fieldsLine}), found ${cols.length}`);
    }
    return { pair: { src: cols[this.srcColumn - 1]!, tgt: cols[this.tgtColumn - 1]! } };
  }

  close(): void {
    this.reader.close();
  }
}
