/**
 * "No network by default": the stages run with every socket and name lookup blocked (a preload
 * that makes net/tls/http/https/http2/dgram/dns and fetch throw and log the attempt), and succeed
 * without a single attempt. `mt data fetch`, the one command meant to download, is the control:
 * under the same preload it does try, which shows the preload would catch the others.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runMt, tempDir, type CliResult } from './helpers/cli.ts';

const PRELOAD = fileURLToPath(new URL('./helpers/no-network.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

function offline(dir: string, args: string[]): { r: CliResult; attempts: string[] } {
  const log = path.join(dir, 'net-attempts.log');
  fs.rmSync(log, { force: true });
  const r = runMt(args, { cwd: dir, nodeArgs: ['--import', TSX, '--import', PRELOAD], env: { MT_NET_LOG: log } });
  const attempts = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  return { r, attempts };
}

describe('no network by default', () => {
  it('prepare, vocab, eval and info open no socket and look up no name', () => {
    const dir = tempDir('mt-offline-');
    const lines = Array.from({ length: 60 }, (_, i) => i);
    fs.writeFileSync(path.join(dir, 'a.de'), lines.map((i) => `das haus ${i} ist rot und klein`).join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'a.en'), lines.map((i) => `the house ${i} is red and small`).join('\n') + '\n');
    fs.writeFileSync(
      path.join(dir, 'exp.yaml'),
      'data: { src_lang: de, tgt_lang: en, train: [{ src: a.de, tgt: a.en }], split: { valid_size: 5, test_size: 5 } }\n' +
        'subword: { vocab_size: 40 }\nmodel: { type: attention }\n',
    );
    const steps: string[][] = [
      ['prepare', '-q', '-c', 'exp.yaml', '--run', 'run'],
      ['vocab', '-q', '--run', 'run'],
      ['eval', '-q', '-i', 'run/data/test.tgt', '-r', 'run/data/test.tgt', '-b'],
      ['info', '-q'],
    ];
    for (const args of steps) {
      const { r, attempts } = offline(dir, args);
      assert.equal(r.code, 0, `mt ${args[0]}: ${r.stderr}`);
      assert.deepEqual(attempts, [], `mt ${args[0]} tried the network`);
    }
    assert.ok(fs.existsSync(path.join(dir, 'run', 'subword', 'joint.model')));
  });

  it('the preload does catch a download: mt data fetch is refused and logged', () => {
    const dir = tempDir('mt-offline-');
    const { r, attempts } = offline(dir, ['data', 'fetch', 'multi30k', '--mirror', 'http://127.0.0.1:9/m30k', '--out', 'c']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^mt: error: http:\/\/127\.0\.0\.1:9\/m30k\/train\.en: download failed \(network access blocked in this test: fetch\)/);
    assert.ok(attempts.length > 0, 'the attempt was logged');
  });
});
