/**
 * Hostile inputs for the finished stages (config, prepare, vocab, eval, data generate, plot, the
 * run directory): every case runs the real CLI and must end with exit 2, exactly one stderr line
 * `mt: error: …` naming the file, line, key or flag, no stack trace, and nothing half-written
 * (every file outside logs/ is as it was; a run directory the failed command created holds no
 * stage). Inputs that look odd but are fine (CRLF, a BOM, a 1 MB line) must work.
 *
 * Cases run a few at a time, each in its own copy of one prepared project.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import type { DataReport } from '../src/data/report.ts';
import { PieceType, decodeModelProto, encodeModelProto } from '../src/subword/model-proto.ts';
import { mountUnavailable, sh } from './helpers/mounts.ts';
import { assertOneLineError, runMtAsync, tempDir } from './helpers/cli.ts';

const CONCURRENCY = 3;

/**
 * The corpus lives outside the projects, so that a copied project's run keeps the same resolved
 * (absolute) paths, and with them the same identity.
 */
const CORPUS = tempDir('mt-hostile-corpus-');
const A_DE = path.join(CORPUS, 'a.de');
const A_EN = path.join(CORPUS, 'a.en');
/** The project every case starts from: exp.yaml, and run/ prepared and with subwords. */
let base = '';

const SENTENCES = 200;
const de = (i: number): string => `der hund ${i} sieht ${i % 7} rote katzen im park`;
const en = (i: number): string => `the dog ${i} sees ${i % 7} red cats in the park`;
const corpus = (side: (i: number) => string, n = SENTENCES): string => Array.from({ length: n }, (_, i) => side(i)).join('\n') + '\n';

interface ConfigParts {
  train?: string;
  split?: string;
  clean?: string;
  subword?: string;
  model?: string;
  extra?: string;
}

/** exp.yaml's text; `data.train` is line 4, `subword` line 6 (7 with `clean`), `model` the line after. */
function configYaml(p: ConfigParts = {}): string {
  return [
    'data:',
    '  src_lang: de',
    '  tgt_lang: en',
    `  train: ${p.train ?? `[{ src: ${A_DE}, tgt: ${A_EN} }]`}`,
    `  split: ${p.split ?? '{ valid_size: 10, test_size: 10 }'}`,
    ...(p.clean ? [`  clean: ${p.clean}`] : []),
    `subword: ${p.subword ?? '{ vocab_size: 60 }'}`,
    `model: ${p.model ?? '{ type: attention, hidden_size: 32, emb_size: 16 }'}`,
    ...(p.extra ? [p.extra] : []),
    '',
  ].join('\n');
}

function write(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
}

// ---------------------------------------------------------------------------------------------
// What a failed command may leave behind

/**
 * Every file and folder under `dir` → a fingerprint. Logs are left out (a failed stage may log
 * why), and a manifest counts by the stages it records. A run's config.yaml is compared byte for
 * byte: a failing stage, even with `--force`, must leave it as it was.
 */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const p = path.join(rel, entry.name);
      const abs = path.join(dir, p);
      if (entry.isDirectory()) {
        if (entry.name === 'logs') continue;
        out.set(p, 'folder');
        walk(p);
      } else if (entry.name === 'manifest.json') {
        out.set(p, manifestStages(abs));
      } else if (entry.isFile()) {
        out.set(p, createHash('sha256').update(fs.readFileSync(abs)).digest('hex'));
      } else {
        out.set(p, 'other');
      }
    }
  };
  walk('');
  return out;
}

function manifestStages(file: string): string {
  try {
    return `stages ${JSON.stringify((JSON.parse(fs.readFileSync(file, 'utf8')) as { stages?: unknown }).stages)}`;
  } catch {
    return `unparsable ${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
  }
}

/** What changed, except a run directory the command created that holds no stage (its config.yaml pins nothing). */
function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const freshRun = (p: string): boolean => after.get(path.join(p, 'manifest.json')) === 'stages {}' && !before.has(p);
  const out: string[] = [];
  for (const [p, v] of after) {
    if (before.get(p) === v) continue;
    const emptyNewRun = !before.has(p) && (freshRun(p) || (['manifest.json', 'config.yaml'].includes(path.basename(p)) && freshRun(path.dirname(p))));
    if (!emptyNewRun) out.push(`${before.has(p) ? 'changed' : 'new'} ${p}`);
  }
  for (const p of before.keys()) if (!after.has(p)) out.push(`removed ${p}`);
  return out;
}


// ---------------------------------------------------------------------------------------------
// The cases

interface HostileCase {
  name: string;
  /** Shape the case's copy of the base project. */
  setup?: (dir: string) => void;
  /** mt's arguments (run with -q, so that stderr holds errors and warnings only). */
  args: string[];
  /** The error line: what is wrong and where (file:line:col, key, flag). */
  error: RegExp;
}

const PREPARE = ['prepare', '-c', 'exp.yaml', '--run', 'fresh'];

/** A config problem: exp.yaml is `yaml`, mt prepare must refuse it before creating anything. */
function configCase(name: string, yaml: string | Buffer, error: RegExp, extraArgs: string[] = []): HostileCase {
  return { name, setup: (dir) => write(dir, { 'exp.yaml': yaml }), args: [...PREPARE, ...extraArgs], error };
}

/** A corpus problem: the files given, train: [`train`], run mt prepare on a fresh run directory. */
function dataCase(name: string, files: Record<string, string | Buffer>, train: string, error: RegExp, clean?: string): HostileCase {
  return { name, setup: (dir) => write(dir, { ...files, 'exp.yaml': configYaml({ train: `[${train}]`, clean }) }), args: PREPARE, error };
}

/** A problem with the base run directory (already prepared, with subwords): `edit` damages it. */
function runCase(name: string, edit: (run: string) => void, args: string[], error: RegExp): HostileCase {
  return { name, setup: (dir) => edit(path.join(dir, 'run')), args, error };
}

function editManifest(run: string, edit: (m: Record<string, unknown>) => void): void {
  const file = path.join(run, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(m);
  fs.writeFileSync(file, JSON.stringify(m));
}

/** The base run's joint.model with one special piece renamed (so the model lacks it), as own.model. */
function modelWithout(special: string): (dir: string) => void {
  return (dir) => {
    const proto = decodeModelProto(fs.readFileSync(path.join(dir, 'run', 'subword', 'joint.model')));
    const i = proto.pieces.findIndex((p) => p.piece === special);
    assert.ok(i >= 0, special);
    proto.pieces[i] = { piece: `x-not-${special}`, score: 0, type: PieceType.USER_DEFINED };
    write(dir, { 'own.model': Buffer.from(encodeModelProto(proto)), 'own.yaml': configYaml({ subword: '{ model: { joint: own.model } }' }) });
  };
}

/** A brought model file `own.model` with these bytes, through subword.model.joint. */
function broughtModel(content: Buffer): (dir: string) => void {
  return (dir) => write(dir, { 'own.model': content, 'own.yaml': configYaml({ subword: '{ model: { joint: own.model } }' }) });
}
const VOCAB_OWN = ['vocab', '-c', 'own.yaml', '--run', 'fresh'];

const h20 = corpus(en, 20);
const evalFiles = (files: Record<string, string | Buffer>) => (dir: string) => write(dir, files);

const CASES: HostileCase[] = [
  // Malformed YAML
  configCase('YAML: a tab as indentation', 'data:\n\tsrc_lang: de\n', /^mt: error: exp\.yaml:2:1: invalid YAML: Tabs are not allowed as indentation/),
  configCase('YAML: an unclosed flow mapping', 'data: { src_lang: de\nmodel: x\n', /^mt: error: exp\.yaml:2:\d+: invalid YAML: .*end with a \}/),
  configCase('YAML: a duplicate key', configYaml({ extra: 'model: { type: seq2seq }' }), /^mt: error: exp\.yaml:8:1: invalid YAML: Map keys must be unique/),
  configCase('YAML: an alias without anchor', configYaml({ extra: 'eval: *nowhere' }), /^mt: error: exp\.yaml: invalid YAML: Unresolved alias .*nowhere/),
  configCase(
    'YAML: an alias bomb',
    'a: &a [x, x, x, x, x, x, x, x, x]\n' +
      Array.from({ length: 8 }, (_, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`).join('\n') +
      '\n',
    /^mt: error: exp\.yaml: invalid YAML: Excessive alias count/,
  ),
  configCase('YAML: a list at the top level', '- data\n- model\n', /^mt: error: exp\.yaml:1:1: expected a mapping of sections/),
  configCase('config: an empty file', '', /^mt: error: exp\.yaml: data: missing required key/),
  configCase('config: a NUL byte', Buffer.from(configYaml().replace('src_lang: de', 'src_lang: d\0e')), /^mt: error: exp\.yaml:2: NUL byte/),
  configCase('config: invalid UTF-8', Buffer.concat([Buffer.from(configYaml()), Buffer.from('name: caf\xe9\n', 'latin1')]), /^mt: error: exp\.yaml:8: invalid UTF-8/),
  { name: 'config: a missing file', args: ['prepare', '-c', 'nope.yaml'], error: /^mt: error: nope\.yaml: cannot read config \(no such file\)$/ },
  { name: 'config: a folder instead of a file', setup: (d) => fs.mkdirSync(path.join(d, 'cfg.yaml')), args: ['prepare', '-c', 'cfg.yaml'], error: /^mt: error: cfg\.yaml: is a directory, expected a YAML config file$/ },

  // Wrong types
  configCase('type: a string for a number', configYaml({ model: '{ type: attention, hidden_size: big }' }), /^mt: error: exp\.yaml:7:\d+: model\.hidden_size: expected number, got string "big"$/),
  configCase('type: a mapping for a list', configYaml({ train: '{ src: a.de, tgt: a.en }' }), /^mt: error: exp\.yaml:4:\d+: data\.train: expected array, got a mapping$/),
  configCase('type: an unknown model type', configYaml({ model: '{ type: rnn }' }), /^mt: error: exp\.yaml:7:\d+: model\.type: expected one of "seq2seq", "attention", "transformer", got string "rnn"$/),

  // Unknown keys
  configCase('unknown key at the top level', configYaml({ extra: 'modle: 1' }), /^mt: error: exp\.yaml:8:1: modle: unknown key \(did you mean `model`\?\)$/),
  configCase('unknown key in a section', configYaml({ model: '{ type: attention, hiden_size: 32 }' }), /^mt: error: exp\.yaml:7:\d+: model\.hiden_size: unknown key \(did you mean `hidden_size`\?\)$/),
  configCase('unknown key in a list item', configYaml({ train: '[{ src: a.de, sorce: b.de, tgt: a.en }]' }), /^mt: error: exp\.yaml:4:\d+: data\.train\.0\.sorce: unknown key \(did you mean `src`\?\)$/),

  // Out-of-range values
  configCase('range: a negative learning rate', configYaml({ extra: 'train: { learning_rate: -1 }' }), /^mt: error: exp\.yaml:8:\d+: train\.learning_rate: must be > 0, got number -1$/),
  configCase('range: zero layers', configYaml({ model: '{ type: attention, layers: 0 }' }), /^mt: error: exp\.yaml:7:\d+: model\.layers: must be > 0, got number 0$/),
  configCase('range: a probability above 1', configYaml({ subword: '{ character_coverage: 1.5 }' }), /^mt: error: exp\.yaml:6:\d+: subword\.character_coverage: must be <= 1, got number 1\.5$/),
  configCase('range: a fractional layer count', configYaml({ model: '{ type: attention, layers: 2.5 }' }), /^mt: error: exp\.yaml:7:\d+: model\.layers: expected int, got number 2\.5$/),

  // Conflicting options
  configCase('conflict: Bahdanau attention on a transformer', configYaml({ model: '{ type: transformer, attention: bahdanau }' }), /^mt: error: exp\.yaml:7:\d+: model\.attention: unknown key/),
  configCase('conflict: d_model not divisible by heads', configYaml({ model: '{ type: transformer, d_model: 100, heads: 3 }' }), /^mt: error: exp\.yaml:7:\d+: model\.d_model: d_model must be divisible by heads$/),
  configCase('conflict: pad_id equals eos_id', configYaml({ subword: '{ pad_id: 3, eos_id: 3 }' }), /^mt: error: exp\.yaml:6:\d+: subword\.pad_id: id 3 is already used by <\/s> \(subword\.eos_id\); the special pieces need distinct ids$/),
  configCase('conflict: a special id outside the vocabulary', configYaml({ subword: '{ vocab_size: 10, eos_id: 12 }' }), /^mt: error: exp\.yaml:6:\d+: subword\.eos_id: id 12 is not below subword\.vocab_size \(10\)$/),
  configCase('conflict: one TSV field for both sides', configYaml({ train: '[{ tsv: a.tsv, src_column: 2, tgt_column: 2 }]' }), /^mt: error: exp\.yaml:4:\d+: data\.train\.0\.tgt_column: must differ from src_column$/),

  // --set and flags
  configCase('--set without =', configYaml(), /^mt: error: --set model: expected KEY=VALUE/, ['--set', 'model']),
  configCase('--set with a value that is not YAML', configYaml(), /^mt: error: --set model\.hidden_size=\[1: value is not valid YAML/, ['--set', 'model.hidden_size=[1']),
  configCase('--set of an unknown key', configYaml(), /^mt: error: --set model\.hiden=3: model\.hiden: unknown key/, ['--set', 'model.hiden=3']),
  { name: 'flag: unknown, with a suggestion', args: ['prepare', '--confg', 'exp.yaml'], error: /^mt: error: unknown option '--confg' \(Did you mean --config\?\) \(see mt prepare --help\)$/ },
  { name: 'flag: a missing value', args: ['eval', '-i'], error: /^mt: error: option '-i, --input <files\.\.\.>' argument missing \(see mt eval --help\)$/ },

  // Corpus files
  dataCase('corpus: a missing file', {}, `{ src: nope.de, tgt: ${A_EN} }`, /^mt: error: \S+\/nope\.de: no such file$/),
  dataCase('corpus: an empty file', { 'e.de': '' }, `{ src: e.de, tgt: ${A_EN} }`, /^mt: error: \S+\/e\.de: empty file \(no lines\)$/),
  { name: 'corpus: a folder instead of a file', setup: (d) => { fs.mkdirSync(path.join(d, 'dir.de')); write(d, { 'exp.yaml': configYaml({ train: `[{ src: dir.de, tgt: ${A_EN} }]` }) }); }, args: PREPARE, error: /^mt: error: \S+\/dir\.de: is a directory, expected a text file$/ },
  dataCase('corpus: unequal line counts', { 'short.de': corpus(de, 150) }, `{ src: short.de, tgt: ${A_EN} }`, /^mt: error: \S+\/short\.de has 150 lines but \S+\/a\.en has 200; the two sides of a corpus must be line-aligned$/),
  dataCase('corpus: a NUL byte', { 'nul.de': corpus(de).replace('hund 17 ', 'hund\0 17 ') }, `{ src: nul.de, tgt: ${A_EN} }`, /^mt: error: \S+\/nul\.de:18: NUL byte at byte 9 \(set data\.clean\.on_invalid_utf8: skip/),
  dataCase('corpus: invalid UTF-8', { 'bad.en': Buffer.concat([Buffer.from(corpus(en, 41)), Buffer.from('caf\xe9\n', 'latin1'), Buffer.from(corpus(en, 158))]) }, `{ src: ${A_DE}, tgt: bad.en }`, /^mt: error: \S+\/bad\.en:42: invalid UTF-8/),
  dataCase('corpus: corrupt gzip', { 'a.de.gz': Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) }, `{ src: a.de.gz, tgt: ${A_EN} }`, /^mt: error: \S+\/a\.de\.gz: cannot read \(corrupt gzip data\)$/),
  dataCase('corpus: only blank lines', { 'b.de': '\n\n\n', 'b.en': '\n\n\n' }, '{ src: b.de, tgt: b.en }', /^mt: error: train: cleaning kept 0 of 3 pairs \(0\.0%\) \(most dropped by drop_empty: 3\)/),
  {
    name: 'corpus: too few pairs for the held-out sets',
    setup: (d) => write(d, { 'exp.yaml': configYaml({ split: '{ valid_size: 150, test_size: 100 }' }) }),
    args: PREPARE,
    error: /^mt: error: train: 200 pairs left after cleaning, too few to split off 150 valid and 100 test pairs \(data\.split\.valid_size, data\.split\.test_size\)$/,
  },

  // The run directory
  { name: 'run directory: made from a different config', args: ['prepare', '-c', 'exp.yaml', '--run', 'run', '--set', 'model.hidden_size=64'], error: /^mt: error: run: run directory was made from a different config \(changed: model\.hidden_size\); use another --run directory or pass --force/ },
  runCase('run directory: another format version', (run) => editManifest(run, (m) => (m.format_version = 99)), ['vocab', '--run', 'run'], /^mt: error: \S+\/run\/manifest\.json: run directory format 99 \(mt \S+\) is not supported by mt \S+ \(format 1\)$/),
  runCase('run directory: a truncated manifest', (run) => fs.writeFileSync(path.join(run, 'manifest.json'), '{"format": "mt-run", "format_'), ['vocab', '--run', 'run'], /^mt: error: \S+\/run\/manifest\.json: unreadable manifest \(/),
  runCase('run directory: a manifest with stages null', (run) => editManifest(run, (m) => (m.stages = null)), ['vocab', '--run', 'run'], /^mt: error: \S+\/run\/manifest\.json: damaged mt run manifest \(stages is missing or of the wrong type\)$/),
  runCase('run directory: not a run directory', (run) => fs.rmSync(path.join(run, 'manifest.json')), ['vocab', '--run', 'run'], /^mt: error: run: not an mt run directory \(no manifest\.json\)$/),
  runCase('run directory: a broken resolved config', (run) => fs.appendFileSync(path.join(run, 'config.yaml'), 'decode: [\n'), ['vocab', '--run', 'run'], /^mt: error: \S+\/run\/config\.yaml:\d+:\d+: invalid YAML/),

  // Subword models
  { name: 'vocab: before prepare', args: ['vocab', '-c', 'exp.yaml', '--run', 'fresh'], error: /^mt: error: \S+\/fresh\/data\/train\.src: missing; run `mt prepare` on this run directory first$/ },
  { name: 'subword model: no <pad> piece', setup: modelWithout('<pad>'), args: VOCAB_OWN, error: /^mt: error: subword\.model\.joint: \S+\/own\.model has no <pad> control piece/ },
  { name: 'subword model: random bytes', setup: broughtModel(Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 131 + 7) % 256))), args: VOCAB_OWN, error: /^mt: error: \S+\/own\.model: not a SentencePiece model \(/ },
  { name: 'subword model: an empty file', setup: broughtModel(Buffer.alloc(0)), args: VOCAB_OWN, error: /^mt: error: \S+\/own\.model: SentencePiece cannot load this model \(/ },
  {
    name: 'subword model: a truncated file',
    setup: (d) => broughtModel(fs.readFileSync(path.join(d, 'run', 'subword', 'joint.model')).subarray(0, 3000))(d),
    args: VOCAB_OWN,
    error: /^mt: error: \S+\/own\.model: not a SentencePiece model \(truncated/,
  },
  {
    name: 'subword model: garbage brought into a run that has subwords (which stay)',
    setup: (d) => write(d, { 'own.model': 'garbage' }),
    args: ['vocab', '--run', 'run', '--set', 'subword.model.joint=own.model', '--force'],
    error: /^mt: error: \S+\/own\.model: not a SentencePiece model/,
  },

  // mt eval
  { name: 'eval: line counts differ', setup: evalFiles({ 'h.txt': corpus(en, 19), 'r.txt': h20 }), args: ['eval', '-i', 'h.txt', '-r', 'r.txt'], error: /^mt: error: h\.txt has 19 lines but r\.txt has 20; the files must be line-aligned$/ },
  { name: 'eval: an empty hypothesis file', setup: evalFiles({ 'h.txt': '', 'r.txt': h20 }), args: ['eval', '-i', 'h.txt', '-r', 'r.txt'], error: /^mt: error: h\.txt has 0 lines but r\.txt has 20/ },
  { name: 'eval: empty hypotheses and references', setup: evalFiles({ 'h.txt': '', 'r.txt': '' }), args: ['eval', '-i', 'h.txt', '-r', 'r.txt'], error: /^mt: error: h\.txt: empty file, nothing to score$/ },
  { name: 'eval: an unknown metric', setup: evalFiles({ 'h.txt': h20 }), args: ['eval', '-i', 'h.txt', '-r', 'h.txt', '-m', 'bleu,meteor'], error: /^mt: error: --metrics: unknown metric 'meteor' \(choose from bleu, chrf, chrf\+\+, ter\)$/ },
  { name: 'eval: an unknown tokenizer', setup: evalFiles({ 'h.txt': h20 }), args: ['eval', '-i', 'h.txt', '-r', 'h.txt', '--tokenize', 'moses'], error: /^mt: error: option '--tokenize <name>' argument 'moses' is invalid\. Allowed choices are 13a, intl, zh, char, none\. \(see mt eval --help\)$/ },
  { name: 'eval: invalid UTF-8', setup: evalFiles({ 'h.txt': Buffer.concat([Buffer.from(corpus(en, 4)), Buffer.from([0xc3, 0x28, 0x0a])]), 'r.txt': corpus(en, 5) }), args: ['eval', '-i', 'h.txt', '-r', 'r.txt'], error: /^mt: error: h\.txt:5: invalid UTF-8$/ },
  { name: 'eval: a NUL byte', setup: evalFiles({ 'h.txt': h20, 'r.txt': h20.replace('dog 3 ', 'dog\x003 ') }), args: ['eval', '-i', 'h.txt', '-r', 'r.txt'], error: /^mt: error: r\.txt:4: NUL byte at byte 8/ },
  { name: 'eval: a negative sample count', setup: evalFiles({ 'h.txt': h20 }), args: ['eval', '-i', 'h.txt', '-r', 'h.txt', '--confidence', '--samples', '-3'], error: /^mt: error: --samples -3: expected an integer ≥ 1$/ },
  { name: 'eval: a run without translations', args: ['eval', '--run', 'run'], error: /^mt: error: \S+\/run\/translations\/test\.hyp: no translations yet \(run mt translate --run run first\)$/ },

  // mt data generate, mt plot
  { name: 'generate: an unknown corpus', args: ['data', 'generate', 'en-xx', '--pairs', '100', '--out', 'gen'], error: /^mt: error: mt data generate en-xx: unknown corpus \(expected one of: en-ko, copy, reverse, sort\)$/ },
  { name: 'generate: negative --pairs', args: ['data', 'generate', 'copy', '--pairs', '-5', '--out', 'gen'], error: /^mt: error: --pairs: expected an integer ≥ 3, got -5$/ },
  { name: 'generate: --out is a file', setup: (d) => write(d, { gen: 'x' }), args: ['data', 'generate', 'copy', '--pairs', '100', '--out', 'gen'], error: /^mt: error: gen: cannot create folder: a file is in the way$/ },
  { name: 'plot: a missing attention file', args: ['plot', 'attention', '--run', 'run', '--input', 'att.jsonl'], error: /^mt: error: att\.jsonl: no such file$/ },
  { name: 'plot: curves of an untrained run', args: ['plot', 'curves', '--run', 'run'], error: /^mt: error: run\/logs\/metrics\.jsonl: no such file \(has the run been trained\?\)$/ },
];

before(async () => {
  base = tempDir('mt-hostile-base-');
  write(CORPUS, { 'a.de': corpus(de), 'a.en': corpus(en) });
  write(base, { 'exp.yaml': configYaml() });
  for (const args of [['prepare', '-c', 'exp.yaml', '--run', 'run'], ['vocab', '--run', 'run']]) {
    const r = await runMtAsync(['-q', ...args], { cwd: base });
    assert.equal(r.code, 0, r.stderr);
  }
});

function caseDir(): string {
  const dir = tempDir('mt-hostile-');
  fs.cpSync(base, dir, { recursive: true });
  return dir;
}

describe('hostile inputs: exit 2, one line naming the place, nothing half-written', { concurrency: CONCURRENCY }, () => {
  it(`has at least 60 distinct cases (${CASES.length})`, () => {
    assert.ok(CASES.length >= 60);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const dir = caseDir();
      c.setup?.(dir);
      const before = snapshot(dir);
      const r = await runMtAsync(['-q', ...c.args], { cwd: dir });
      assertOneLineError(r, c.error);
      assert.deepEqual(changes(before, snapshot(dir)), [], 'nothing written or removed');
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }
});

describe('odd but valid inputs work', { concurrency: CONCURRENCY }, () => {
  /** Prepare `train` (files in the case folder) with exp.yaml given as `yaml`; data/ must equal the base run's. */
  async function preparesLikeBase(files: Record<string, string | Buffer>, yaml: string | Buffer): Promise<void> {
    const dir = tempDir('mt-hostile-ok-');
    write(dir, { ...files, 'exp.yaml': yaml });
    const r = await runMtAsync(['-q', ...PREPARE], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    for (const f of ['train.src', 'train.tgt', 'valid.src', 'valid.tgt', 'test.src', 'test.tgt']) {
      const got = fs.readFileSync(path.join(dir, 'fresh', 'data', f), 'utf8');
      assert.equal(got, fs.readFileSync(path.join(base, 'run', 'data', f), 'utf8'), f);
      assert.doesNotMatch(got, /[\r\uFEFF]/, f);
    }
  }
  const crlf = (text: string): string => text.replace(/\n/g, '\r\n');
  const TRAIN_C = '[{ src: c.de, tgt: c.en }]';

  it('CRLF line endings, in the corpus and the config: the same data/ as with LF', async () => {
    await preparesLikeBase({ 'c.de': crlf(corpus(de)), 'c.en': crlf(corpus(en)) }, crlf(configYaml({ train: TRAIN_C })));
  });

  it('a byte-order mark on the corpus files and the config: the same data/ as without', async () => {
    await preparesLikeBase({ 'c.de': '\uFEFF' + corpus(de), 'c.en': '\uFEFF' + corpus(en) }, '\uFEFF' + configYaml({ train: TRAIN_C }));
  });

  it('a 1 MB line: dropped by max_chars, and counted', async () => {
    const dir = tempDir('mt-hostile-ok-');
    const lines = corpus(de).split('\n');
    lines[5] = 'wort '.repeat(200_000);
    write(dir, { 'c.de': lines.join('\n'), 'c.en': corpus(en), 'exp.yaml': configYaml({ train: TRAIN_C }) });
    const r = await runMtAsync(['-q', '--json', ...PREPARE], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as DataReport;
    assert.deepEqual(report.train.steps.find((s) => s.step === 'max_chars'), { step: 'max_chars', dropped: 1, kept: SENTENCES - 1 });
    assert.equal(report.output.train + report.output.valid + report.output.test, SENTENCES - 1);
  });

  it('mt eval: CRLF, a BOM and a 1 MB line are scored like any text', async () => {
    const dir = tempDir('mt-hostile-ok-');
    const long = 'the dog sees a cat '.repeat(50_000);
    const ref = `${corpus(en, 5)}${long}\n`;
    write(dir, { 'r.txt': ref, 'h.txt': '\uFEFF' + crlf(ref) });
    const r = await runMtAsync(['-q', 'eval', '-i', 'h.txt', '-r', 'r.txt', '-m', 'bleu,chrf', '-b'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '100.0\n100.0\n', '-b prints sacreBLEU\'s default width, one decimal');
  });
});

// ---------------------------------------------------------------------------------------------
// A read-only run directory and a full disk, made with mounts (root only)


describe('a run directory that cannot be written', { concurrency: 2 }, () => {
  it('read-only: exit 2 naming the path, nothing changed', async (t: TestContext) => {
    const why = mountUnavailable('a read-only bind or a small tmpfs');
    if (why) return t.skip(why);
    const dir = caseDir();
    const run = path.join(dir, 'run');
    write(run, { 'translations/test.hyp': fs.readFileSync(path.join(run, 'data', 'test.tgt')) });
    sh('mount', ['--bind', run, run]);
    try {
      sh('mount', ['-o', 'remount,bind,ro', run]);
      const before = snapshot(dir);
      for (const args of [['prepare', '-c', 'exp.yaml', '--run', 'run'], ['vocab', '--run', 'run'], ['eval', '--run', 'run']]) {
        const r = await runMtAsync(['-q', ...args], { cwd: dir });
        assertOneLineError(r, /^mt: error: \S+\/run\/\S+: read-only file system$/);
      }
      assert.deepEqual(changes(before, snapshot(dir)), []);
    } finally {
      sh('umount', [run]);
    }
  });

  it('a full disk: exit 2, "no space left on device" naming the path, the previous data/ intact', async (t: TestContext) => {
    const why = mountUnavailable('a read-only bind or a small tmpfs');
    if (why) return t.skip(why);
    const dir = tempDir('mt-hostile-full-');
    const disk = path.join(dir, 'disk');
    fs.mkdirSync(disk);
    sh('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
    try {
      const args = ['-q', 'prepare', '-c', 'exp.yaml', '--run', 'disk/run'];
      write(dir, { 's.de': corpus(de, 40), 's.en': corpus(en, 40), 'exp.yaml': configYaml({ train: '[{ src: s.de, tgt: s.en }]', split: '{ valid_size: 5, test_size: 5 }' }) });
      const first = await runMtAsync(args, { cwd: dir });
      assert.equal(first.code, 0, first.stderr);
      // The same config, on a corpus that no longer fits; then subword models that do not fit either.
      write(dir, { 's.de': corpus(de, 3000), 's.en': corpus(en, 3000) });
      const before = snapshot(dir);
      assertOneLineError(await runMtAsync(args, { cwd: dir }), /^mt: error: \S+\/disk\/run\/\S+: no space left on device$/);
      assertOneLineError(await runMtAsync(['-q', 'vocab', '--run', 'disk/run'], { cwd: dir }), /^mt: error: \S+\/disk\/run\/\S+: no space left on device$/);
      assert.deepEqual(changes(before, snapshot(dir)), []);
      assert.equal(fs.readFileSync(path.join(disk, 'run', 'data', 'train.src'), 'utf8').split('\n').length, 31, 'the first 30 training pairs');
    } finally {
      sh('umount', [disk]);
    }
  });
});
