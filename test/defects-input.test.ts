/**
 * Issue 14, input defects: translate's input read by the same rules as prepare's and eval's (LF
 * only, strict UTF-8, `--on-invalid skip`), stdin that is empty or not a pipe, sizes beyond sane
 * bounds, inputs that never end (character devices, endless lines, huge --pairs), configs that are
 * too large or quote too much, and eval's `-m ''` and `-r`. Every bad input must end with exit 2
 * and one `mt: error:` line, well inside the time limit each command runs under here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../src/backend/index.ts';
import { ConfigError, parseConfigText } from '../src/config/load.ts';
import { train } from '../src/train/trainer.ts';
import { assertOneLineError as oneLineError, MT_BIN, minimalConfigYaml, tempDir, type CliResult } from './helpers/cli.ts';
import { quietLog, TINY_MODELS, tinyConfig, tinyRun } from './train-fixture.ts';

interface Timed extends CliResult {
  seconds: number;
}

/** Every refusal here is also short: an error line quotes at most ~100 characters of a value. */
function assertOneLineError(r: Timed, error: RegExp): void {
  oneLineError(r, error, { maxLength: 400 });
}

/**
 * Run mt, killed after `limitMs` (a hang then fails the test instead of stalling it). stdin is
 * `input` through a pipe, a file opened as stdin, or an empty pipe.
 */
function mt(args: string[], opts: { cwd?: string; input?: string | Buffer; stdinFile?: string; limitMs?: number } = {}): Promise<Timed> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const stdinFd = opts.stdinFile !== undefined ? fs.openSync(opts.stdinFile, 'r') : undefined;
    const child = spawn(process.execPath, [MT_BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, MT_THREADS: '1' },
      stdio: [stdinFd ?? 'pipe', 'pipe', 'pipe'],
      timeout: opts.limitMs ?? 120_000,
      killSignal: 'SIGKILL',
    });
    if (stdinFd !== undefined) fs.closeSync(stdinFd);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : -2), stdout, stderr, seconds: (Date.now() - started) / 1000 }));
    if (child.stdin) {
      // mt may exit without reading all of it.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}


const outLines = (r: CliResult): string[] => r.stdout.split('\n').slice(0, -1);

const dir = tempDir('mt-defects-');
const file = (name: string, content: string | Buffer): string => {
  fs.writeFileSync(path.join(dir, name), content);
  return path.join(dir, name);
};

/** A briefly trained tiny run, made once, for the tests that translate (with data/test.src). */
let trained: Promise<string> | undefined;
function trainedRun(): Promise<string> {
  trained ??= (async () => {
    await initBackend('wasm');
    const run = await tinyRun(tinyConfig(TINY_MODELS.attention, { max_steps: 2 }));
    await train(run, { log: quietLog() });
    fs.copyFileSync(run.path('data', 'valid.src'), run.path('data', 'test.src'));
    return run.root;
  })();
  return trained;
}

before(() => {
  fs.writeFileSync(path.join(dir, 'train.de'), 'ein hund\n');
  fs.writeFileSync(path.join(dir, 'train.en'), 'a dog\n');
  fs.writeFileSync(path.join(dir, 'exp.yaml'), minimalConfigYaml());
});

after(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  if (trained) fs.rmSync(path.dirname(await trained), { recursive: true, force: true });
});

describe('translate reads its input as prepare and eval do', () => {
  it('a lone CR stays inside its line: 3 lines in, 3 out, from stdin and from -i', async () => {
    const run = await trainedRun();
    const input = 'ka lo\rmi nu\npe ri\nso tu\n';
    const piped = await mt(['-q', 'translate', '--run', run, '--beam', '1'], { input });
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(outLines(piped).length, 3, piped.stdout);
    const given = await mt(['-q', 'translate', '--run', run, '--beam', '1', '-i', file('cr.txt', input)]);
    assert.equal(given.code, 0, given.stderr);
    assert.deepEqual(outLines(given), outLines(piped));
  });

  it('invalid UTF-8, NUL bytes and UTF-16 are errors naming file:line, from -i and from stdin', async () => {
    const run = await trainedRun();
    const bad = file('bad.txt', Buffer.concat([Buffer.from('ka lo\nmi '), Buffer.from([0xff]), Buffer.from(' nu\npe ri\n')]));
    assertOneLineError(await mt(['translate', '--run', run, '-i', bad]), /bad\.txt:2: invalid UTF-8 .*--on-invalid skip/);
    assertOneLineError(await mt(['-q', 'translate', '--run', run], { input: 'ka lo\nmi nu\npe\0ri\n' }), /^mt: error: stdin:3: NUL byte at byte 3/);
    // 600 lines of UTF-16 gave 601 lines of output.
    const utf16 = file('utf16.txt', Buffer.from('\uFEFF' + 'ka lo mi\n'.repeat(600), 'utf16le'));
    assertOneLineError(await mt(['translate', '--run', run, '-i', utf16]), /utf16\.txt:1: UTF-16/);
  });

  it('--on-invalid skip: a bad line becomes an empty output line (output stays line-aligned), and is counted', async () => {
    const run = await trainedRun();
    const input = Buffer.concat([Buffer.from('ka lo\nmi '), Buffer.from([0xc3, 0x28]), Buffer.from(' nu\npe\0ri\nso tu\n')]);
    const r = await mt(['translate', '--run', run, '--beam', '1', '--on-invalid', 'skip'], { input });
    assert.equal(r.code, 0, r.stderr);
    const clean = await mt(['-q', 'translate', '--run', run, '--beam', '1'], { input: 'ka lo\n\n\nso tu\n' });
    assert.equal(clean.code, 0, clean.stderr);
    assert.deepEqual(outLines(r), outLines(clean));
    assert.deepEqual(outLines(r).slice(1, 3), ['', '']);
    assert.match(r.stderr, /warning: skipped 2 lines with invalid UTF-8 or NUL bytes .*stdin:2, stdin:3/);
    const help = await mt(['translate', '--help']);
    assert.match(help.stdout.replace(/\s+/g, ' '), /--on-invalid .*empty output line/);
  });
});

describe('translate without -i', () => {
  it('nothing piped in: exit 2 saying stdin is empty; stdin /dev/null translates the test split', async () => {
    const run = await trainedRun();
    assertOneLineError(await mt(['-q', 'translate', '--run', run]), /^mt: error: stdin: empty, nothing to translate/);
    const r = await mt(['-q', 'translate', '--run', run, '--beam', '1'], { stdinFile: '/dev/null' });
    assert.equal(r.code, 0, r.stderr);
    const hyp = path.join(run, 'translations', 'test.hyp');
    assert.equal(fs.readFileSync(hyp, 'utf8').split('\n').length - 1, fs.readFileSync(path.join(run, 'data', 'test.src'), 'utf8').split('\n').length - 1);
  });
});

describe('sizes have upper bounds', () => {
  it('--beam 100000 and --nbest 1000: one-line errors naming the flag, at once', async () => {
    const run = await trainedRun();
    const input = file('one.txt', 'ka lo mi\n');
    assertOneLineError(await mt(['translate', '--run', run, '-i', input, '--beam', '100000'], { limitMs: 60_000 }), /--beam .*'100000'.* from 1 to 100/);
    assertOneLineError(await mt(['translate', '--run', run, '-i', input, '--nbest', '1000'], { limitMs: 60_000 }), /--nbest .*'1000'.* from 1 to 100/);
  });

  it('model, vocabulary, batch and length sizes beyond sane bounds are refused naming the key', () => {
    const base = minimalConfigYaml();
    const cases: [string, RegExp][] = [
      ['model.hidden_size=1e12', /model\.hidden_size: must be <= 8192, got number 1000000000000$/],
      ['model.emb_size=100000', /model\.emb_size: must be <= 8192/],
      ['model.layers=1000', /model\.layers: must be <= 64/],
      ['model={type: transformer, d_model: 65536, heads: 4}', /model\.d_model: must be <= 8192/],
      ['model={type: transformer, ff_size: 1000000}', /model\.ff_size: must be <= 65536/],
      ['model={type: transformer, d_model: 512, heads: 512}', /model\.heads: must be <= 128/],
      ['model={type: transformer, encoder_layers: 100}', /model\.encoder_layers: must be <= 64/],
      ['model={type: transformer, decoder_layers: 100}', /model\.decoder_layers: must be <= 64/],
      ['subword.vocab_size=1e9', /subword\.vocab_size: must be <= 1000000/],
      ['train.batch_tokens=1e12', /train\.batch_tokens: must be <= 1000000/],
      ['train.max_len=1e9', /train\.max_len: must be <= 10000/],
      ['decode.beam_size=100000', /decode\.beam_size: must be <= 100/],
      ['decode={beam_size: 100, nbest: 1000}', /decode\.nbest: must be <= 100/],
    ];
    for (const [set, error] of cases) {
      assert.throws(() => parseConfigText(base, 'exp.yaml', { overrides: [set] }), (e: unknown) => e instanceof ConfigError && error.test(e.message), set);
    }
  });

  it('model.hidden_size: 1e12 in a config file: mt config validate says so in one line', async () => {
    const cfg = file('huge.yaml', minimalConfigYaml().replace('hidden_size: 64', 'hidden_size: 1e12'));
    assertOneLineError(await mt(['config', 'validate', cfg]), /huge\.yaml:7:\d+: model\.hidden_size: must be <= 8192/);
  });
});

describe('inputs that never end are refused at once', () => {
  it('translate -i /dev/zero and eval -i /dev/zero: a character device, not a text file', async () => {
    const run = await trainedRun();
    assertOneLineError(await mt(['translate', '--run', run, '-i', '/dev/zero'], { limitMs: 30_000 }), /^mt: error: \/dev\/zero: a character device/);
    const ref = file('ref.txt', 'a dog\n');
    assertOneLineError(await mt(['eval', '-i', '/dev/zero', '-r', ref], { limitMs: 30_000 }), /^mt: error: \/dev\/zero: a character device/);
    assertOneLineError(await mt(['eval', '-i', ref, '-r', ref, '-s', '/dev/zero'], { limitMs: 30_000 }), /^mt: error: \/dev\/zero: a character device/);
  });

  it('a line over 1 MiB is an error naming file:line (translate and eval); a 1 MB line of NUL bytes fails at once', async () => {
    const run = await trainedRun();
    const long = file('long.txt', `ka lo\n${'mi '.repeat(400_000)}\npe\n`);
    assertOneLineError(await mt(['translate', '--run', run, '-i', long], { limitMs: 60_000 }), /long\.txt:2: longer than 1048576 bytes/);
    assertOneLineError(await mt(['-q', 'translate', '--run', run], { input: fs.readFileSync(long), limitMs: 60_000 }), /^mt: error: stdin:2: longer than 1048576 bytes/);
    assertOneLineError(await mt(['eval', '-i', long, '-r', long], { limitMs: 60_000 }), /long\.txt:2: longer than 1048576 bytes/);
    const nul = file('nul.txt', Buffer.concat([Buffer.alloc(1_000_000), Buffer.from('\n')]));
    assertOneLineError(await mt(['translate', '--run', run, '-i', nul], { limitMs: 30_000 }), /nul\.txt:1: NUL byte at byte 1/);
  });

  it('subword.model.joint=/dev/zero is refused naming the file', async () => {
    assertOneLineError(
      await mt(['vocab', '-c', 'exp.yaml', '--run', 'devzero', '--set', 'subword.model.joint=/dev/zero'], { cwd: dir, limitMs: 30_000 }),
      /^mt: error: \/dev\/zero: a character device, not a SentencePiece model file/,
    );
  });

  it('mt data generate --pairs 1e14 is refused at once', async () => {
    assertOneLineError(await mt(['data', 'generate', 'copy', '--pairs', '1e14', '--out', path.join(dir, 'gen')], { limitMs: 30_000 }), /^mt: error: --pairs: at most 1000000, got 100000000000000$/);
    assert.equal(fs.existsSync(path.join(dir, 'gen')), false);
  });
});

describe('configs are read in bounded time and quoted briefly', () => {
  it('40,000 unknown keys: reported in seconds, only the first few (a duplicate key is still found)', async () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `k${i}: 1`).join('\n');
    const cfg = file('keys.yaml', `${minimalConfigYaml()}\n${keys}\n`);
    const r = await mt(['config', 'validate', cfg], { limitMs: 25_000 });
    assert.equal(r.code, 2, `after ${r.seconds} s: ${r.stderr.slice(0, 500)}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.ok(lines.length <= 5, r.stderr.slice(0, 1000));
    assert.match(lines[0]!, /keys\.yaml:9:1: k0: unknown key/);
    assert.match(lines[lines.length - 1]!, /k4: unknown key .*\(and 39995 more unknown keys\)$/);
    // Found by mt now, not the yaml package (whose check was the quadratic part).
    const dup = file('dup.yaml', `${minimalConfigYaml()}\n${keys}\nk17: 2\n`);
    assertOneLineError(await mt(['config', 'validate', dup], { limitMs: 25_000 }), /dup\.yaml:40009:1: invalid YAML: Map keys must be unique$/);
  });

  it('a config over 1 MB is refused naming the file, before it is parsed', async () => {
    const cfg = file('big.yaml', `${minimalConfigYaml()}\n# ${'x'.repeat(2_000_000)}\n`);
    assertOneLineError(await mt(['config', 'validate', cfg], { limitMs: 30_000 }), /big\.yaml: 2000\d{3} bytes; a config file is at most 1 MB \(1048576 bytes\)$/);
    assertOneLineError(await mt(['config', 'validate', '/dev/zero'], { limitMs: 30_000 }), /^mt: error: \/dev\/zero: not a regular file/);
  });

  it('long lists and long strings are refused, and an error line quotes at most about 100 characters', async () => {
    const symbols = file('symbols.yaml', minimalConfigYaml(`subword: { user_defined_symbols: [${Array.from({ length: 100_000 }, (_, i) => `s${i}`).join(', ')}] }`));
    assertOneLineError(await mt(['config', 'validate', symbols], { limitMs: 30_000 }), /subword\.user_defined_symbols: at most 10000 items, got 100000$/);
    const name = file('name.yaml', minimalConfigYaml(`name: ${'n'.repeat(500_000)}`));
    assertOneLineError(await mt(['config', 'validate', name], { limitMs: 30_000 }), /name\.yaml:8:\d+: name: at most 100 characters, got 500000$/);
    const backend = file('backend.yaml', minimalConfigYaml(`backend: ${'b'.repeat(500_000)}`));
    assertOneLineError(await mt(['config', 'validate', backend], { limitMs: 30_000 }), /backend: expected one of .*, got string "b{20,100}…" \(500000 characters\)$/);
    // (YAML itself refuses a plain key over 1024 characters.)
    const key = 'k'.repeat(1000);
    assertOneLineError(await mt(['config', 'validate', file('key.yaml', minimalConfigYaml(`${key}: 1`))], { limitMs: 30_000 }), /key\.yaml:8:1: k{20,100}… \(1000 characters\): unknown key/);
    assertOneLineError(await mt(['config', 'validate', path.join(dir, 'exp.yaml'), '--set', `model.type=${'t'.repeat(100_000)}`], { limitMs: 30_000 }), /^mt: error: --set model\.type=t{20,100}… \(100011 characters\): model\.type: /);
  });
});

describe('mt eval flags', () => {
  it("-m '' is an error naming -m, not the defaults; so are empty --samples and --seed", async () => {
    const ref = file('ref.txt', 'a dog\n');
    assertOneLineError(await mt(['eval', '-i', ref, '-r', ref, '-m', '']), /^mt: error: -m\/--metrics '': give at least one of bleu, chrf, chrf\+\+, ter$/);
    assertOneLineError(await mt(['eval', '-i', ref, '-r', ref, '--confidence', '--samples', '']), /^mt: error: --samples '': expected an integer ≥ 1$/);
    assertOneLineError(await mt(['eval', '-i', ref, '-r', ref, '--seed', ' ']), /^mt: error: --seed ' ': expected an integer ≥ 0$/);
  });

  it('--ref is the long form of -r; -r given a run directory says that in mt eval it means --ref', async () => {
    const ref = file('ref.txt', 'the dog sees a red cat in the park\n');
    const r = await mt(['eval', '-i', ref, '--ref', ref, '-m', 'bleu', '-b']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '100.0\n', "-b prints sacreBLEU's default width, one decimal");
    const run = await trainedRun();
    assertOneLineError(await mt(['eval', '-i', ref, '-r', run]), /-r\/--ref \S+: a run directory; in mt eval -r is --ref \(a reference file\): score a run with --run /);
  });
});
