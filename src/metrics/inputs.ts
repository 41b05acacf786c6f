/** Reading the text files that `mt eval` scores: hypotheses, references and sources, one segment per line. */
import * as fs from 'node:fs';
import { UserError } from '../errors.ts';

/**
 * The lines of a UTF-8 text file (`-` reads stdin). A final newline does not start another line,
 * and a leading byte-order mark is not text; nothing else is stripped, since the metrics define
 * their own whitespace handling. Invalid UTF-8 and NUL bytes (a binary or mis-encoded file) are
 * errors naming the line, not replacement characters that would quietly lower the scores.
 */
export function readLines(file: string): string[] {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a text file' : `cannot read (${code ?? String(e)})`}`);
  }
  const text = decodeText(bytes);
  if (text === undefined) throw badLine(bytes, file);
  if (text === '') return [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Strict UTF-8 without NUL, or undefined. */
function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.indexOf(0) >= 0) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The error for the first line of `bytes` that is not clean UTF-8 text. */
function badLine(bytes: Buffer, file: string): UserError {
  for (let start = 0, line = 1; ; line++) {
    const nl = bytes.indexOf(0x0a, start);
    const lineBytes = bytes.subarray(start, nl < 0 ? bytes.length : nl);
    const nul = lineBytes.indexOf(0);
    if (nul >= 0) return new UserError(`${file}:${line}: NUL byte at byte ${nul + 1} (not a text file?)`);
    if (decodeText(lineBytes) === undefined) return new UserError(`${file}:${line}: invalid UTF-8`);
    if (nl < 0) return new UserError(`${file}: invalid UTF-8`);
    start = nl + 1;
  }
}
