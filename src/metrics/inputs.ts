/** Reading the text files that `mt eval` scores: hypotheses, references and sources, one segment per line. */
import * as fs from 'node:fs';
import { UserError } from '../errors.ts';

/**
 * The lines of a UTF-8 text file (`-` reads stdin). A final newline does not start another line;
 * nothing else is stripped, since the metrics define their own whitespace handling.
 */
export function readLines(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a text file' : `cannot read (${code ?? String(e)})`}`);
  }
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
