import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RunDir } from '../src/run/rundir.ts';
import { minimalConfigYaml, runMt, tempDir } from './helpers/cli.ts';

function configIn(dir: string, extra = ''): string {
  const file = path.join(dir, 'exp.yaml');
  fs.writeFileSync(file, minimalConfigYaml(extra));
  return file;
}

describe('mt CLI', () => {
  it('--help lists the pipeline subcommands', () => {
    const r = runMt(['--help']);
    assert.equal(r.code, 0);
    for (const cmd of ['prepare', 'vocab', 'train', 'translate', 'eval', 'info', 'config']) {
      assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, 'm'), `${cmd} missing from --help`);
    }
  });

  it('every subcommand explains its options', () => {
    const r = runMt(['train', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--config <file>/);
    assert.match(r.stdout, /--set <key=value>/);
  });

  it('an unknown command or option exits 2', () => {
    assert.equal(runMt(['frobnicate']).code, 2);
    assert.equal(runMt(['info', '--no-such-flag']).code, 2);
  });

  it('config validate succeeds on an example and fails with exit 2 on bad configs', () => {
    const ok = runMt(['config', 'validate', 'configs/multi30k-attention.yaml']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /ok \(model: attention, de→en\)/);

    const dir = tempDir();
    const cases: [string, RegExp][] = [
      ['train:\n  learnig_rate: 0.1\n', /exp\.yaml:9:3: train\.learnig_rate: unknown key \(did you mean `learning_rate`\?\)/],
      ['train:\n  max_epochs: ten\n', /exp\.yaml:9:15: train\.max_epochs: expected number, got string "ten"/],
      ['train:\n  learning_rate: -3e-4\n', /exp\.yaml:9:18: train\.learning_rate: must be > 0/],
    ];
    for (const [extra, expected] of cases) {
      const r = runMt(['config', 'validate', configIn(dir, extra)]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('config validate lists every problem, one per line', () => {
    const dir = tempDir();
    const r = runMt(['config', 'validate', configIn(dir, 'train:\n  learning_rate: -1\n  clip_norm: x\n')]);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(lines.every((l) => l.startsWith('mt: error: ')));
  });

  it('config show prints the resolved config with defaults and --set applied', () => {
    const r = runMt(['--json', 'config', 'show', 'configs/multi30k-transformer.yaml', '--set', 'decode.beam_size=8']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout) as { decode: { beam_size: number; length_penalty: number }; model: { type: string } };
    assert.equal(c.decode.beam_size, 8);
    assert.equal(c.decode.length_penalty, 0.6);
    assert.equal(c.model.type, 'transformer');
  });

  it('a stage creates the run directory with the resolved config and manifest', () => {
    const dir = tempDir();
    const run = path.join(dir, 'run');
    const r = runMt(['prepare', '-c', configIn(dir), '--run', run, '--set', 'seed=7']);
    // prepare may or may not be implemented; either way the run directory plumbing ran.
    assert.ok(fs.existsSync(path.join(run, 'manifest.json')), r.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(run, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(manifest.format, 'mt-run');
    assert.match(String(manifest.identity_hash), /^[0-9a-f]{64}$/);
    assert.match(fs.readFileSync(path.join(run, 'config.yaml'), 'utf8'), /^seed: 7$/m);
  });

  it('a run directory made from a different config is refused unless --force', () => {
    const dir = tempDir();
    const run = path.join(dir, 'run');
    const file = configIn(dir);
    runMt(['vocab', '-c', file, '--run', run]); // fails (no data yet), but makes the run
    // A finished stage pins the run's config (a failed first stage does not: test/defects-run.test.ts).
    RunDir.open(run).recordStage('prepare');
    const r = runMt(['vocab', '-c', file, '--run', run, '--set', 'model.hidden_size=32']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /run directory was made from a different config \(changed: model\.hidden_size\)/);
    const forced = runMt(['vocab', '-c', file, '--run', run, '--set', 'model.hidden_size=32', '--force']);
    assert.doesNotMatch(forced.stderr, /different config/);
    // The stage failed (no data), so the run keeps its config.
    assert.match(forced.stderr, /train\.src: missing/);
    assert.match(fs.readFileSync(path.join(run, 'config.yaml'), 'utf8'), /hidden_size: 64/);
  });

  it('a missing run directory is a one-line error with exit 2', () => {
    const r = runMt(['translate', '--run', '/nonexistent/run']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'mt: error: /nonexistent/run: no such run directory\n');
  });
});
