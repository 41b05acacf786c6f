/**
 * Writing a text file one line at a time, buffered, and fsynced on close. prepare writes all its
 * outputs into a staging folder this way and moves the folder into place only when all succeeded.
 */
import * as fs from 'node:fs';
import { fsUserError, writeAll } from '../util/atomic.ts';

const BUFFER_BYTES = 1 << 20;

export class LineWriter {
  readonly file: string;
  lines = 0;
  private readonly fd: number;
  // Lines are copied into bytes at once: holding the strings would keep alive the whole
  // decoded blocks they were sliced from (see LineReader), for as long as the file is open.
  private readonly buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;

  constructor(file: string) {
    this.file = file;
    this.fd = this.io(() => fs.openSync(file, 'w'));
  }

  write(line: string): void {
    this.lines += 1;
    // A UTF-16 unit takes at most 3 bytes in UTF-8.
    if (this.used + 3 * line.length + 1 > BUFFER_BYTES) {
      this.flush();
      if (3 * line.length + 1 > BUFFER_BYTES) {
        this.io(() => writeAll(this.fd, Buffer.from(line + '\n', 'utf8')));
        return;
      }
    }
    this.used += this.buffer.write(line, this.used);
    this.buffer[this.used++] = 0x0a;
  }

  close(): void {
    try {
      this.flush();
      this.io(() => fs.fsyncSync(this.fd));
    } finally {
      fs.closeSync(this.fd);
    }
  }

  private flush(): void {
    if (this.used > 0) this.io(() => writeAll(this.fd, this.buffer.subarray(0, this.used)));
    this.used = 0;
  }

  /** A full disk or a read-only folder is the user's to fix: name the file. */
  private io<T>(op: () => T): T {
    try {
      return op();
    } catch (e) {
      throw fsUserError(e, this.file);
    }
  }
}
