/**
 * Issue 14's data-loss defects in the run directory and its writers: short writes on a full
 * disk, a failing `--force` or first `prepare` that rewrote the run's config, subword models
 * whose bytes depended on where the run lives, and a config `name` that escapes `runs/`.
 * Each case runs the real CLI on a tiny trained project, copied per case.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { LineWriter } from '../src/data/writer.ts';
import { UserError } from '../src/errors.ts';
import { decodeModelProto, encodeModelProto } from '../src/subword/model-proto.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';
import { mountUnavailable, sh } from './helpers/mounts.ts';
import { assertOneLineError, MT_BIN, runMtAsync, tempDir, type CliResult } from './helpers/cli.ts';
import { withShortWrites } from './helpers/short-writes.ts';

// ---------------------------------------------------------------------------------------------
// A tiny trained project: exp.yaml and run/ (prepared, subwords, 2 training steps)

/** Outside the projects, so that a copied project's config resolves to the same corpus. */
const CORPUS = tempDir('mt-defects-corpus-');
const SRC = path.join(CORPUS, 'c.src');
const TGT = path.join(CORPUS, 'c.tgt');
let base = '';

function configYaml(p: { src?: string; vocab?: number; hidden?: number; name?: string } = {}): string {
  return [
    ...(p.name !== undefined ? [`name: ${JSON.stringify(p.name)}`] : []),
    'seed: 7',
    'data:',
    '  src_lang: xx',
    '  tgt_lang: yy',
    `  train: [{ src: ${p.src ?? SRC}, tgt: ${TGT} }]`,
    '  split: { valid_size: 10, test_size: 10 }',
    `subword: { type: bpe, vocab_size: ${p.vocab ?? 24}, joint: true }`,
    `model: { type: seq2seq, cell: gru, emb_size: 16, hidden_size: ${p.hidden ?? 32}, bidirectional: false }`,
    'train: { batch_tokens: 120, max_sentences: 16, max_len: 20, max_steps: 2, valid_every: 1000 }',
    '',
  ].join('\n');
}

function corpus(): string[] {
  const words = ['ka', 'lo', 'mi', 'nu', 'pe', 'ri', 'so', 'tu', 'va', 'ze', 'bo', 'di'];
  let s = 7;
  const next = (n: number): number => (s = (s * 1103515245 + 12345) % 2147483648) % n;
  return Array.from({ length: 200 }, () => Array.from({ length: 2 + next(5) }, () => words[next(words.length)]).join(' '));
}

async function mtOk(args: string[], cwd: string): Promise<CliResult> {
  const r = await runMtAsync(['-q', ...args], { cwd });
  assert.equal(r.code, 0, `mt ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** A fresh copy of the trained project. */
function project(): string {
  const dir = tempDir('mt-defects-');
  fs.cpSync(base, dir, { recursive: true });
  return dir;
}


const hashOf = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** What pins a run to its config: config.yaml's bytes and the manifest's hashes. */
function runIdentity(run: string): string {
  const m = JSON.parse(fs.readFileSync(path.join(run, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  return JSON.stringify([hashOf(path.join(run, 'config.yaml')), m.identity_hash, m.config_hash]);
}

before(async () => {
  const lines = corpus();
  fs.writeFileSync(SRC, lines.join('\n') + '\n');
  // Not a copy of the source: prepare drops pairs whose sides are equal.
  fs.writeFileSync(TGT, lines.map((l) => `${l.split(' ').reverse().join(' ')} ok`).join('\n') + '\n');
  base = tempDir('mt-defects-base-');
  fs.writeFileSync(path.join(base, 'exp.yaml'), configYaml());
  await mtOk(['prepare', '-c', 'exp.yaml', '--run', 'run'], base);
  await mtOk(['vocab', '--run', 'run'], base);
  await mtOk(['train', '--run', 'run', '--backend', 'wasm'], base);
  // 600 lines to translate: with --nbest 2, some 30 KB of output.
  const test = fs.readFileSync(path.join(base, 'run', 'data', 'test.src'), 'utf8');
  fs.writeFileSync(path.join(base, 'in.txt'), test.repeat(60));
});

// ---------------------------------------------------------------------------------------------
// 1. Short writes and a full disk


/** Fill the folder's file system, then free one page: the next write of more than 4 KiB is short. */
function fillAllButOnePage(dir: string): void {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) if (fs.writeSync(fd, block) < block.length) break;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  fs.truncateSync(filler, Math.max(0, fs.statSync(filler).size - 4096));
}

describe('issue 14.1: every byte written, or exit 2', () => {
  it('writeFileAtomic writes all of the data when write(2) writes less than asked', () => {
    const file = path.join(tempDir(), 'a.bin');
    const data = Buffer.alloc(10_000, 7);
    withShortWrites({ chunk: 1000 }, () => writeFileAtomic(file, data));
    assert.equal(fs.readFileSync(file).length, data.length);
  });

  it('writeFileAtomic: a disk that fills after a short write is a UserError naming the file, and the old file stays', () => {
    const dir = tempDir();
    const file = path.join(dir, 'a.txt');
    writeFileAtomic(file, 'old content');
    assert.throws(
      () => withShortWrites({ chunk: 1000, budget: 2500 }, () => writeFileAtomic(file, Buffer.alloc(10_000, 7))),
      (e: unknown) => e instanceof UserError && e.message === `${file}: no space left on device`,
    );
    assert.equal(fs.readFileSync(file, 'utf8'), 'old content');
    assert.deepEqual(fs.readdirSync(dir), ['a.txt'], 'no temp file left');
  });

  it('LineWriter (prepare\'s writer) writes every line when write(2) writes less than asked', () => {
    const file = path.join(tempDir(), 'train.src');
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(i * 10)}`);
    withShortWrites({ chunk: 37 }, () => {
      const w = new LineWriter(file);
      for (const l of lines) w.write(l);
      w.write('y'.repeat(2 << 20)); // longer than the buffer: written on its own
      w.close();
    });
    assert.equal(fs.readFileSync(file, 'utf8'), [...lines, 'y'.repeat(2 << 20)].join('\n') + '\n');
  });

  it('mt translate -o FILE on a full disk: exit 2 naming FILE, the old FILE intact', async (t: TestContext) => {
    const why = mountUnavailable('a small tmpfs');
    if (why) return t.skip(why);
    const dir = project();
    const disk = path.join(dir, 'disk');
    fs.mkdirSync(disk);
    sh('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
    try {
      const out = path.join(disk, 'out.txt');
      fs.writeFileSync(out, 'old translations\n');
      fillAllButOnePage(disk);
      const r = await runMtAsync(['-q', 'translate', '--run', 'run', '--backend', 'wasm', '-i', 'in.txt', '--beam', '2', '--nbest', '2', '-o', out], { cwd: dir });
      assertOneLineError(r, new RegExp(`^mt: error: ${out}: no space left on device$`));
      assert.equal(fs.readFileSync(out, 'utf8'), 'old translations\n');
      assert.deepEqual(fs.readdirSync(disk).sort(), ['filler', 'out.txt'], 'no temp file left');
    } finally {
      sh('umount', [disk]);
    }
  });

  it('mt translate to a stdout that is full (/dev/full): exit 2, one line', (t: TestContext) => {
    if (!fs.existsSync('/dev/full')) return t.skip('no /dev/full here');
    const dir = project();
    const full = fs.openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [MT_BIN, '-q', 'translate', '--run', 'run', '--backend', 'wasm', '-i', 'in.txt'], {
        cwd: dir,
        stdio: ['ignore', full, 'pipe'],
        encoding: 'utf8',
        env: { ...process.env, MT_THREADS: '1' },
        timeout: 120_000,
      });
      assertOneLineError({ code: r.status ?? -1, stdout: '', stderr: r.stderr }, /^mt: error: stdout: no space left on device/);
    } finally {
      fs.closeSync(full);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 2, 3. A stage that fails leaves the run's config as it was

describe('issue 14.2: a failing --force leaves the run as it was', () => {
  it('mt train --force with other model dims: refused, config.yaml and manifest unchanged', async () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, 'wide.yaml'), configYaml({ hidden: 48 }));
    const before = runIdentity(path.join(dir, 'run'));
    const r = await runMtAsync(['-q', 'train', '-c', 'wide.yaml', '--run', 'run', '--force', '--backend', 'wasm'], { cwd: dir });
    assertOneLineError(r, /different model config \(changed: model\.hidden_size\)/);
    assert.equal(runIdentity(path.join(dir, 'run')), before);
  });

  it('mt vocab --force with an impossible vocab_size: refused, config.yaml and manifest unchanged', async () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, 'big.yaml'), configYaml({ vocab: 5000 }));
    const before = runIdentity(path.join(dir, 'run'));
    const r = await runMtAsync(['-q', 'vocab', '-c', 'big.yaml', '--run', 'run', '--force'], { cwd: dir });
    assertOneLineError(r, /subword\.vocab_size: 5000 is too large/);
    assert.equal(runIdentity(path.join(dir, 'run')), before);
  });

  it('mt prepare --force with a missing corpus: refused, config.yaml and manifest unchanged', async () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, 'typo.yaml'), configYaml({ src: path.join(CORPUS, 'c.scr') }));
    const before = runIdentity(path.join(dir, 'run'));
    const r = await runMtAsync(['-q', 'prepare', '-c', 'typo.yaml', '--run', 'run', '--force'], { cwd: dir });
    assertOneLineError(r, /c\.scr: no such file/);
    assert.equal(runIdentity(path.join(dir, 'run')), before);
  });
});

describe('issue 14.3: a run whose first stage failed pins no config', () => {
  it('a failed first prepare (a typo in a corpus path), then the corrected one: it runs', async () => {
    const dir = tempDir('mt-defects-first-');
    fs.writeFileSync(path.join(dir, 'exp.yaml'), configYaml({ src: path.join(CORPUS, 'c.scr') }));
    assertOneLineError(await runMtAsync(['-q', 'prepare', '-c', 'exp.yaml'], { cwd: dir }), /c\.scr: no such file/);
    fs.writeFileSync(path.join(dir, 'exp.yaml'), configYaml());
    const r = await runMtAsync(['-q', 'prepare', '-c', 'exp.yaml'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'runs', 'exp', 'data', 'train.src')));
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Subword models do not depend on where the run lives; train and translate agree on them

describe('issue 14.4: subword identity', () => {
  it('mt vocab in a copied run writes the same joint.model bytes', async () => {
    const dir = project();
    await mtOk(['vocab', '--run', 'run'], dir);
    assert.equal(hashOf(path.join(dir, 'run', 'subword', 'joint.model')), hashOf(path.join(base, 'run', 'subword', 'joint.model')));
    // And the copy still translates with its checkpoints.
    await mtOk(['translate', '--run', 'run', '--backend', 'wasm', '-i', 'in.txt', '-o', 'out.txt'], dir);
  });

  it('a subword model other than the checkpoint\'s: train refuses it as translate does', async () => {
    const dir = project();
    const file = path.join(dir, 'run', 'subword', 'joint.model');
    const proto = decodeModelProto(fs.readFileSync(file));
    const last = proto.pieces[proto.pieces.length - 1]!;
    last.score -= 1; // same pieces and size, other scores: another segmentation
    fs.writeFileSync(file, encodeModelProto(proto));
    const refused = /^mt: error: \S+\/run\/subword\/joint\.model: differs from the subword model checkpoint \S+ was trained with$/;
    assertOneLineError(await runMtAsync(['-q', 'translate', '--run', 'run', '--backend', 'wasm', '-i', 'in.txt', '-o', 'out.txt'], { cwd: dir }), refused);
    assertOneLineError(await runMtAsync(['-q', 'train', '--run', 'run', '--backend', 'wasm'], { cwd: dir }), refused);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. The run folder stays under runs/

describe('issue 14: a config name is one path component', () => {
  for (const name of ['../../escape', '/tmp/mt-defects-absolute-escape', 'a/b', '..']) {
    it(`name: ${name}: exit 2 naming the key, no folder made`, async () => {
      const root = tempDir('mt-defects-name-');
      const cwd = path.join(root, 'x', 'y');
      fs.mkdirSync(cwd, { recursive: true });
      fs.writeFileSync(path.join(cwd, 'exp.yaml'), configYaml({ name }));
      const r = await runMtAsync(['-q', 'prepare', '-c', 'exp.yaml'], { cwd });
      assertOneLineError(r, /exp\.yaml:1:\d+: name: /);
      assert.ok(!fs.existsSync(path.join(root, 'escape')));
      assert.ok(!fs.existsSync('/tmp/mt-defects-absolute-escape'));
      assert.deepEqual(fs.readdirSync(cwd), ['exp.yaml']);
    });
  }
});
