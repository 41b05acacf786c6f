/** Reading the text files that `mt eval` scores: hypotheses, references and sources, one segment per line. */
import { LineReader, MAX_LINE_BYTES } from '../data/lines.ts';
import { UserError } from '../errors.ts';

/**
 * The lines of a UTF-8 text file or pipe (`-` reads stdin), by the rules every mt input follows
 * (src/data/lines.ts): split on LF only, a final newline does not start another line, a CRLF's CR
 * and a leading byte-order mark are not text; nothing else is stripped, since the metrics define
 * their own whitespace handling. Invalid UTF-8 and NUL bytes (a binary or mis-encoded file) and a
 * line over MAX_LINE_BYTES are errors naming the line, not text that would quietly change the scores.
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
