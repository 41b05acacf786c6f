import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../src/config/load.ts';
import { RunDir, diffKeys } from '../src/run/rundir.ts';
import { minimalConfigYaml, tempDir } from './helpers/cli.ts';

const config = parseConfigText(minimalConfigYaml(), '/x/exp.yaml');

describe('run directory', () => {
  it('round-trips the resolved config through config.yaml', () => {
    const root = path.join(tempDir(), 'run');
    RunDir.create(root, config);
    const opened = RunDir.open(root);
    assert.deepEqual(opened.config, config);
  });

  it('records stages in the manifest', () => {
    const root = path.join(tempDir(), 'run');
    const run = RunDir.create(root, config);
    run.recordStage('prepare', { pairs: 10 });
    const m = RunDir.open(root).readManifest();
    assert.equal(m.stages.prepare?.pairs, 10);
    assert.ok(m.stages.prepare?.finished_at);
  });

  it('accepts the same experiment again and changes outside the identity sections', () => {
    const root = path.join(tempDir(), 'run');
    RunDir.create(root, config);
    assert.doesNotThrow(() => RunDir.create(root, config));
    assert.doesNotThrow(() => RunDir.create(root, { ...config, decode: { ...config.decode, beam_size: 1 } }));
  });

  it('refuses a different experiment and names what changed', () => {
    const root = path.join(tempDir(), 'run');
    RunDir.create(root, config);
    const other = { ...config, subword: { ...config.subword, vocab_size: 100 } };
    assert.throws(() => RunDir.create(root, other), /changed: subword\.vocab_size/);
    assert.equal(RunDir.create(root, other, { force: true }).config.subword.vocab_size, 100);
  });

  it('rejects folders that are not run directories', () => {
    const dir = tempDir();
    assert.throws(() => RunDir.open(dir), /not an mt run directory/);
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{"format":"other"}');
    assert.throws(() => RunDir.open(dir), /not an mt run manifest/);
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, '');
    assert.throws(() => RunDir.create(file, config), /exists and is not a directory/);
  });

  it('refuses a run directory from an incompatible format version', () => {
    const root = path.join(tempDir(), 'run');
    const run = RunDir.create(root, config);
    const m = run.readManifest();
    fs.writeFileSync(run.path('manifest.json'), JSON.stringify({ ...m, format_version: 99, mt_version: '9.0.0' }));
    assert.throws(() => RunDir.open(root), /run directory format 99 \(mt 9\.0\.0\) is not supported/);
  });

  it('diffKeys lists changed leaf paths', () => {
    assert.deepEqual(diffKeys({ a: { b: 1, c: 2 }, d: 3 }, { a: { b: 1, c: 5 }, d: 3, e: 1 }), ['a.c', 'e']);
    assert.deepEqual(diffKeys({ a: [1] }, { a: [1] }), []);
  });
});
