/**
 * Lines of a stream in windows, for translating in a pipe: a window holds whatever lines have
 * arrived (up to `max`), so a fast producer gets full windows (good batching) and a slow one
 * gets its lines translated as they come instead of waiting for the end of the input.
 */
import type { Line, LineReader } from '../data/lines.ts';

/** `text` turns each line into the string to translate (or throws for a bad one). */
export async function* lineWindows(reader: LineReader, max: number, text: (line: Line) => string): AsyncGenerator<string[]> {
  try {
    for (let first = await reader.next(); first !== null; first = await reader.next()) {
      const window = [text(first)];
      while (window.length < max) {
        const line = reader.nextBuffered();
        if (line === null) break;
        window.push(text(line));
      }
      yield window;
    }
  } finally {
    // Stops reading when the output went away (`| head`) or a line failed.
    reader.close();
  }
}
