import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, formatProblem, loadConfigFile, parseConfigText, parseOverride } from '../src/config/load.ts';
import { suggestKey } from '../src/config/suggest.ts';
import { REPO_ROOT, minimalConfigYaml, tempDir } from './helpers/cli.ts';

function problemsOf(text: string, overrides: string[] = []): string[] {
  try {
    parseConfigText(text, 'exp.yaml', { overrides });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems.map(formatProblem);
  }
  assert.fail('config was accepted');
}

describe('config loading', () => {
  it('accepts every example config in configs/', () => {
    const files = fs.readdirSync(path.join(REPO_ROOT, 'configs')).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 3);
    for (const f of files) {
      const { config } = loadConfigFile(path.join(REPO_ROOT, 'configs', f));
      assert.ok(['seq2seq', 'attention', 'transformer'].includes(config.model.type), f);
    }
  });

  it('fills in defaults in every section', () => {
    const c = parseConfigText(minimalConfigYaml(), '/x/exp.yaml');
    assert.equal(c.seed, 1234);
    assert.equal(c.train.learning_rate, 1e-3);
    assert.equal(c.train.schedule.type, 'constant');
    assert.equal(c.subword.vocab_size, 8000);
    assert.equal(c.decode.beam_size, 5);
    assert.deepEqual(c.eval.metrics, ['bleu', 'chrf', 'ter']);
    assert.ok(c.model.type === 'attention' && c.model.attention === 'bahdanau' && c.model.hidden_size === 64);
  });

  it('resolves data paths against the config file folder', () => {
    const c = parseConfigText(minimalConfigYaml(), '/some/dir/exp.yaml');
    const train = c.data.train[0]!;
    assert.ok('src' in train);
    assert.equal(train.src, '/some/dir/train.de');
  });

  it('rejects a misspelt key with file:line:col and a suggestion', () => {
    const text = minimalConfigYaml('train:\n  learnng_rate: 0.01\n');
    const [p] = problemsOf(text);
    assert.match(p!, /^exp\.yaml:9:3: train\.learnng_rate: unknown key \(did you mean `learning_rate`\?\)$/);
  });

  it('suggests learning_rate for the abbreviation lr', () => {
    assert.equal(suggestKey('lr', ['learning_rate', 'label_smoothing', 'max_len']), 'learning_rate');
    assert.equal(suggestKey('hiden_size', ['hidden_size', 'layers']), 'hidden_size');
    assert.equal(suggestKey('zzzzzz', ['hidden_size', 'layers']), undefined);
  });

  it('rejects a wrong type naming the line, the key and what was expected', () => {
    const [p] = problemsOf(minimalConfigYaml('train:\n  batch_tokens: lots\n'));
    assert.equal(p, 'exp.yaml:9:17: train.batch_tokens: expected number, got string "lots"');
  });

  it('rejects a negative learning rate', () => {
    const [p] = problemsOf(minimalConfigYaml('train:\n  learning_rate: -0.001\n'));
    assert.equal(p, 'exp.yaml:9:18: train.learning_rate: must be > 0, got number -0.001');
  });

  it('reports a missing required section and an unknown model type', () => {
    const problems = problemsOf('data: {src_lang: de, tgt_lang: en, train: [{src: a, tgt: b}]}\nmodel: {type: rnn}\n');
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^exp\.yaml:2:\d+: model\.type: expected one of "seq2seq", "attention", "transformer", got string "rnn"$/);
  });

  it('names the key when an option belongs to another model family', () => {
    const text = 'data: {src_lang: de, tgt_lang: en, train: [{src: a, tgt: b}]}\nmodel:\n  type: transformer\n  attention: bahdanau\n';
    const [p] = problemsOf(text);
    assert.match(p!, /^exp\.yaml:4:3: model\.attention: unknown key/);
  });

  it('reports YAML syntax errors with their position', () => {
    const [p] = problemsOf('data:\n  src_lang: [de\nmodel: {}\n');
    assert.match(p!, /^exp\.yaml:\d+:\d+: invalid YAML/);
  });

  it('rejects duplicate keys', () => {
    const [p] = problemsOf(minimalConfigYaml('seed: 1\nseed: 2\n'));
    assert.match(p!, /invalid YAML: .*[Dd]uplicate|unique/);
  });

  it('reports problems with the error count in the one-line message', () => {
    try {
      parseConfigText(minimalConfigYaml('train:\n  learning_rate: -1\n  clip_norm: x\n'), 'exp.yaml');
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems.length, 2);
      assert.ok(!e.message.includes('\n'));
      assert.match(e.message, /and 1 more/);
    }
  });
});

describe('--set overrides', () => {
  it('parses values as YAML scalars and lists', () => {
    assert.deepEqual(parseOverride('train.learning_rate=3e-4').value, 3e-4);
    assert.deepEqual(parseOverride('train.learning_rate=3e-4').keyPath, ['train', 'learning_rate']);
    assert.equal(parseOverride('model.bidirectional=false').value, false);
    assert.equal(parseOverride('name=my run').value, 'my run');
    assert.deepEqual(parseOverride('eval.metrics=[bleu, ter]').value, ['bleu', 'ter']);
    assert.equal(parseOverride('a.b==x').value, '=x');
  });

  it('rejects malformed overrides', () => {
    assert.throws(() => parseOverride('train.learning_rate'), /expected KEY=VALUE/);
    assert.throws(() => parseOverride('=3'), /expected KEY=VALUE/);
    assert.throws(() => parseOverride('train..lr=3'), /not a dotted key path/);
    assert.throws(() => parseOverride('a=[1'), /not valid YAML/);
  });

  it('applies overrides before validation, including new sections and list items', () => {
    const c = parseConfigText(minimalConfigYaml(), '/x/exp.yaml', {
      overrides: ['train.learning_rate=3e-4', 'decode.beam_size=1', 'model.cell=lstm', 'data.train.0.src=other.de'],
    });
    assert.equal(c.train.learning_rate, 3e-4);
    assert.equal(c.decode.beam_size, 1);
    assert.ok(c.model.type === 'attention' && c.model.cell === 'lstm');
    const train = c.data.train[0]!;
    assert.ok('src' in train);
    assert.equal(train.src, path.resolve(process.cwd(), 'other.de'), 'override paths are relative to the cwd');
  });

  it('paths inside a --set value are relative to the cwd too; the rest stay relative to the file', () => {
    const c = parseConfigText(minimalConfigYaml(), '/x/exp.yaml', {
      overrides: ['data.valid={src: v.de, tgt: v.en}', 'data.train=[{src: t.de, tgt: t.en}]'],
    });
    const valid = c.data.valid!;
    const train = c.data.train[0]!;
    assert.ok('src' in valid && 'src' in train);
    assert.deepEqual([valid.src, valid.tgt, train.src], ['v.de', 'v.en', 't.de'].map((f) => path.resolve(process.cwd(), f)));
    const test = parseConfigText(minimalConfigYaml(), '/x/exp.yaml', { overrides: ['data.valid={src: v.de, tgt: v.en}'] }).data.train[0]!;
    assert.ok('src' in test);
    assert.equal(path.dirname(test.src), '/x', 'a path from the file stays relative to the file');
  });

  it('blames the --set flag when an override is invalid', () => {
    const [p] = problemsOf(minimalConfigYaml(), ['train.learning_rate=-1']);
    assert.equal(p, '--set train.learning_rate=-1: train.learning_rate: must be > 0, got number -1');
    const [q] = problemsOf(minimalConfigYaml(), ['train.lerning_rate=1']);
    assert.match(q!, /^--set train\.lerning_rate=1: train\.lerning_rate: unknown key \(did you mean `learning_rate`\?\)$/);
  });

  it('reads a file with a BOM and CRLF line endings', () => {
    const dir = tempDir();
    const file = path.join(dir, 'exp.yaml');
    fs.writeFileSync(file, '\uFEFF' + minimalConfigYaml().replace(/\n/g, '\r\n'));
    assert.equal(loadConfigFile(file).config.model.type, 'attention');
  });

  it('names a missing config file and a directory given as one', () => {
    assert.throws(() => loadConfigFile('/nonexistent/exp.yaml'), /\/nonexistent\/exp\.yaml: cannot read config \(no such file\)/);
    assert.throws(() => loadConfigFile(tempDir()), /is a directory/);
  });
});
