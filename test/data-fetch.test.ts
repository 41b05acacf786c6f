import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { MULTI30K_FILES } from '../src/data/fetch.ts';
import { runMtAsync, SHARED, tempDir } from './helpers/cli.ts';
import { missingShared } from './helpers/requirements.ts';

const MULTI30K = path.join(SHARED, 'data', 'multi30k');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * A mirror on 127.0.0.1 serving shared/data/multi30k: test2016.* only gzipped (as `<name>.gz`,
 * plain names 404), and, when `corrupt` names a file, that file with one byte changed.
 */
let server: http.Server;
let baseUrl = '';
let corrupt: string | undefined;

before(async () => {
  server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '').replace(/^\/m30k\//, ''));
    const plain = name.replace(/\.gz$/, '');
    const file = path.join(MULTI30K, plain);
    const gzOnly = plain.startsWith('test2016.');
    if (!fs.existsSync(file) || plain.includes('/') || gzOnly !== name.endsWith('.gz')) {
      res.writeHead(404).end('not found');
      return;
    }
    let body = fs.readFileSync(file);
    if (plain === corrupt) body = Buffer.concat([body.subarray(0, 100), Buffer.from('X'), body.subarray(101)]);
    res.writeHead(200, { 'content-length': String(gzOnly ? gzipSync(body).length : body.length) });
    res.end(gzOnly ? gzipSync(body) : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m30k`;
});

after(() => {
  server.close();
});

describe('mt data fetch multi30k', { skip: missingShared('data/multi30k') }, () => {
  it('the built-in sums are those of shared/data/multi30k', () => {
    for (const f of MULTI30K_FILES) assert.equal(f.sha256, sha256(fs.readFileSync(path.join(MULTI30K, f.name))), f.name);
    assert.deepEqual(MULTI30K_FILES.map((f) => f.upstream).slice(6), ['test_2016_flickr.en.gz', 'test_2016_flickr.de.gz', 'test_2016_flickr.fr.gz']);
  });

  it('downloads from an HTTP mirror (plain and .gz), verifies and lays out the files', async () => {
    corrupt = undefined;
    const cwd = tempDir();
    const r = await runMtAsync(['data', 'fetch', 'multi30k', '--mirror', baseUrl, '--json'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { out: string; files: { name: string; source: string }[] };
    assert.equal(result.out, path.join('corpora', 'multi30k'));
    assert.equal(result.files.find((f) => f.name === 'test2016.de')?.source, `${baseUrl}/test2016.de.gz`);
    for (const f of MULTI30K_FILES) {
      assert.ok(fs.readFileSync(path.join(cwd, 'corpora', 'multi30k', f.name)).equals(fs.readFileSync(path.join(MULTI30K, f.name))), f.name);
    }
    // A second run finds everything in place and downloads nothing.
    const again = await runMtAsync(['data', 'fetch', 'multi30k', '--mirror', 'http://127.0.0.1:9/unused'], { cwd });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /9 files in corpora\/multi30k \(0 fetched, 9 already there; sha256 verified\)/);
  });

  it('rejects a corrupted file: exit 2, both hashes named, nothing left in its place', async () => {
    corrupt = 'val.de';
    const out = path.join(tempDir(), 'm');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'val.de'), 'a stale, damaged copy\n');
    const r = await runMtAsync(['data', 'fetch', 'multi30k', '--mirror', baseUrl, '--out', out], { cwd: tempDir() });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(lines[0]!, /warning: .*val\.de: sha256 does not match, fetching it again/);
    assert.equal(lines.length, 2, r.stderr);
    const good = MULTI30K_FILES.find((f) => f.name === 'val.de')!.sha256;
    const bad = sha256(fs.readFileSync(path.join(MULTI30K, 'val.de')).fill('X', 100, 101));
    assert.match(lines[1]!, new RegExp(`^mt: error: val\\.de: sha256 mismatch \\(expected ${good}, got ${bad}\\)`));
    assert.equal(fs.existsSync(path.join(out, 'val.de')), false);
    assert.deepEqual(fs.readdirSync(out).filter((f) => f.startsWith('.')), [], 'no temp files');
  });

  it('copies from a local folder of .gz files', async () => {
    const mirror = tempDir();
    for (const f of MULTI30K_FILES) fs.writeFileSync(path.join(mirror, `${f.name}.gz`), gzipSync(fs.readFileSync(path.join(MULTI30K, f.name))));
    const out = path.join(tempDir(), 'm');
    const r = await runMtAsync(['data', 'fetch', 'multi30k', '--mirror', mirror, '--out', out], { cwd: tempDir() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256(fs.readFileSync(path.join(out, 'train.de'))), MULTI30K_FILES.find((f) => f.name === 'train.de')!.sha256);
    assert.equal(fs.readdirSync(out).length, 9);
  });
});
