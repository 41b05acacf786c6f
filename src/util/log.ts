/**
 * Output conventions: results go to stdout, messages to stderr.
 * --quiet silences messages (not errors), --json makes stdout machine-readable,
 * and a stage may also mirror its messages into a log file in the run directory.
 */
import { appendLine } from './atomic.ts';

export interface OutputOptions {
  quiet: boolean;
  json: boolean;
  verbose: boolean;
}

export class Logger {
  readonly opts: OutputOptions;
  private file: string | undefined;

  constructor(opts: OutputOptions) {
    this.opts = opts;
  }

  /** Mirror messages into `file` (e.g. runs/x/logs/train.log) from now on. */
  toFile(file: string): void {
    this.file = file;
  }

  info(msg: string): void {
    this.write('info', msg, !this.opts.quiet);
  }

  warn(msg: string): void {
    this.write('warn', `warning: ${msg}`, true);
  }

  debug(msg: string): void {
    this.write('debug', msg, this.opts.verbose);
  }

  /** A result for the user: JSON on stdout with --json, else `text` on stdout. */
  result(value: unknown, text: string): void {
    process.stdout.write(this.opts.json ? JSON.stringify(value) + '\n' : text.endsWith('\n') ? text : text + '\n');
  }

  /** Whether interactive progress bars should be drawn. */
  get interactive(): boolean {
    return !this.opts.quiet && !this.opts.json && process.stderr.isTTY === true;
  }

  private write(level: string, msg: string, toTerminal: boolean): void {
    if (toTerminal) process.stderr.write(msg + '\n');
    if (this.file) appendLine(this.file, `${new Date().toISOString()} ${level} ${msg}`);
  }
}
