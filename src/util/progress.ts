/**
 * Progress bars for long work (cli-progress), drawn on stderr only when interactive.
 * Callers pass the figures users watch (loss, ppl, tok/s …) as a payload; ETA comes from cli-progress.
 */
import cliProgress from 'cli-progress';
import type { Logger } from './log.ts';

export type Payload = Record<string, string | number>;

export interface Progress {
  update(value: number, payload?: Payload): void;
  /** A message while the bar is drawn (log.info): the bar redraws under it on the next update. */
  say(msg: string): void;
  stop(): void;
}

/** Erases the terminal line the cursor is on (carriage return, ANSI "erase entire line"). */
const CLEAR_LINE = '\r\x1b[2K';

/** No bar: updates are dropped, messages go straight to the log. */
export function silentProgress(log: Logger): Progress {
  return { update() {}, say: (msg) => log.info(msg), stop() {} };
}

/**
 * `fields` lists the payload keys shown after the bar, e.g. ['loss', 'ppl', 'tok/s'].
 * Returns a silent one when the logger is not interactive (not a TTY, --quiet or --json).
 */
export function startProgress(log: Logger, label: string, total: number, fields: string[] = []): Progress {
  if (!log.interactive) return silentProgress(log);
  // cli-progress fills only {\w+} placeholders, so a label such as `tok/s` gets a safe key.
  const key = (f: string): string => f.replace(/\W/g, '_');
  const extra = fields.map((f) => `${f} {${key(f)}}`).join(' | ');
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total}${extra ? ' | ' + extra : ''} | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, Object.fromEntries(fields.map((f) => [key(f), '-'])));
  return {
    update: (value, payload) =>
      bar.update(value, payload && Object.fromEntries(Object.entries(payload).map(([k, v]) => [key(k), v]))),
    say: (msg) => {
      // Clear the bar's line first, or the message would be written over its end.
      process.stderr.write(CLEAR_LINE);
      log.info(msg);
    },
    stop: () => bar.stop(),
  };
}
