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
    RunDir.create(root, config).recordStage('prepare', { pairs: 10 });
    const first = RunDir.open(root).readManifest();
    assert.doesNotThrow(() => RunDir.create(root, config));
    // Reused, not recreated: the stages done so far, the creation time and both hashes are kept.
    const same = RunDir.open(root).readManifest();
    assert.deepEqual(same.stages, first.stages);
    assert.equal(same.created_at, first.created_at);
    assert.equal(same.identity_hash, first.identity_hash);
    assert.equal(same.config_hash, first.config_hash);
    assert.deepEqual(RunDir.open(root).config, config);

    assert.notEqual(config.decode.beam_size, 1);
    const decodeChanged = { ...config, decode: { ...config.decode, beam_size: 1 } };
    assert.doesNotThrow(() => RunDir.create(root, decodeChanged));
    // The new decode settings are what config.yaml now holds; the identity (and the stages) stay.
    const reopened = RunDir.open(root);
    assert.equal(reopened.config.decode.beam_size, 1);
    assert.deepEqual(reopened.config, decodeChanged);
    const changed = reopened.readManifest();
    assert.deepEqual(changed.stages, first.stages);
    assert.equal(changed.created_at, first.created_at);
    assert.equal(changed.identity_hash, first.identity_hash);
    assert.notEqual(changed.config_hash, first.config_hash);
  });

  it('refuses a different experiment and names what changed', () => {
    const root = path.join(tempDir(), 'run');
    // A finished stage pins the config; a run with none takes another (test/defects-run.test.ts).
    RunDir.create(root, config).recordStage('prepare');
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
