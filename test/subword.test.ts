/** Subword models: the .model protobuf, the trainers' piece rules, the sentencepiece-js wrapper, `mt vocab`. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../src/config/load.ts';
import { UserError } from '../src/errors.ts';
import { LAYOUT, RunDir } from '../src/run/rundir.ts';
import { loadSubwords, trainSubwords } from '../src/subword/index.ts';
import { PieceType, ProtoError, decodeModelProto, encodeModelProto, type ModelProto } from '../src/subword/model-proto.ts';
import { normalizeForModel } from '../src/subword/normalize.ts';
import { nmtNfkcCharsmapBlob, normalizeNmtNfkc } from '../src/text/normalize.ts';
import { SentencePieceModel } from '../src/subword/sentencepiece.ts';
import { trainSentencePiece, trainerOptions } from '../src/subword/train.ts';
import { Logger } from '../src/util/log.ts';
import { runMt, tempDir } from './helpers/cli.ts';
import { missingShared, sharedLines } from './helpers/requirements.ts';

/** Real German and English text to train on (tests that need it skip without ../shared). */
const NO_MULTI30K = missingShared('data/multi30k/train.de', 'data/multi30k/train.en');
const quiet = new Logger({ quiet: true, json: false, verbose: false });

function lines(file: 'train.de' | 'train.en', limit: number): string[] {
  return sharedLines(`data/multi30k/${file}`).filter(Boolean).slice(0, limit);
}

/** German and English lines, with numbers and a non-Latin script mixed in. */
const CORPUS = NO_MULTI30K ? [] : [
  ...lines('train.de', 1500),
  ...lines('train.en', 1500),
  ...Array.from({ length: 200 }, (_, i) => `Zimmer ${100 + (i % 37)} kostet ${i * 7} Euro, sagt Ελένη ${i % 5}x.`),
];

function subwordConfig(extra: string) {
  return parseConfigText(`data: { src_lang: de, tgt_lang: en, train: [{ src: a, tgt: b }] }\nsubword: { ${extra} }\nmodel: { type: attention }`, '/tmp/x.yaml').subword;
}

function train(extra: string, corpus = CORPUS): ModelProto {
  return trainSentencePiece(corpus, trainerOptions(subwordConfig(extra), ['corpus'], 'test', 1));
}

function writeModel(model: ModelProto): string {
  const file = path.join(tempDir('mt-subword-'), 'm.model');
  fs.writeFileSync(file, encodeModelProto(model));
  return file;
}

const normalPieces = (m: ModelProto) => m.pieces.filter((p) => p.type === PieceType.NORMAL).map((p) => p.piece);

describe('nmt_nfkc charsmap', () => {
  it('ships the blob spm_train writes, and applies it', () => {
    const blob = nmtNfkcCharsmapBlob();
    assert.equal(blob.length, 237_561);
    assert.equal(createHash('sha256').update(blob).digest('hex'), '51d3684747b35ef99cd4802f37cc1ee0c6bec4d060814f774efb1066d3c167f2');
    assert.equal(normalizeNmtNfkc('ﬁ ① Ｈｅｌｌｏ a\u00a0b e\u0301'), 'fi 1 Hello a b é');
    assert.equal(normalizeNmtNfkc('  two  spaces '), '  two  spaces ', 'no whitespace handling');
    assert.equal(normalizeForModel('  two \u00a0 spaces '), '▁two▁spaces');
    assert.equal(normalizeForModel(' \u200b '), '', 'nothing left');
  });
});

describe('ModelProto reader/writer', () => {
  it('round-trips pieces, negative ids, floats and the charsmap', () => {
    const model: ModelProto = {
      pieces: [
        { piece: '<unk>', score: 0, type: PieceType.UNKNOWN },
        { piece: '<s>', score: 0, type: PieceType.CONTROL },
        { piece: '▁Hallo', score: -1.5, type: PieceType.NORMAL },
        { piece: '<sep>', score: 0, type: PieceType.USER_DEFINED },
      ],
      trainerSpec: { modelType: 'bpe', vocabSize: 4, padId: -1, unkId: 0, bosId: 1, eosId: -1, characterCoverage: 0.9995, input: ['a', 'b'], userDefinedSymbols: ['<sep>'] },
      normalizerSpec: { name: 'nmt_nfkc', precompiledCharsmap: new Uint8Array([1, 2, 3]), addDummyPrefix: true },
    };
    const back = decodeModelProto(encodeModelProto(model));
    assert.deepEqual(back.pieces, model.pieces);
    assert.equal(back.trainerSpec.padId, -1);
    assert.equal(back.trainerSpec.eosId, -1);
    assert.equal(back.trainerSpec.modelType, 'bpe');
    assert.deepEqual(back.trainerSpec.input, ['a', 'b']);
    assert.equal(back.trainerSpec.characterCoverage, Math.fround(0.9995));
    assert.deepEqual([...back.normalizerSpec.precompiledCharsmap!], [1, 2, 3]);
  });

  it('rejects bytes that are not a ModelProto', () => {
    assert.throws(() => decodeModelProto(new Uint8Array([0x0a, 0x50, 0x01])), ProtoError);
    assert.throws(() => decodeModelProto(new Uint8Array([0x0f, 0x01])), ProtoError);
  });
});

describe('trainers: vocabularies follow SentencePiece piece rules', { skip: NO_MULTI30K }, () => {
  for (const type of ['bpe', 'unigram'] as const) {
    it(`${type}: exact size, special ids, user symbols, no mixed scripts or digits+letters, ▁ only in front`, () => {
      const model = train(`type: ${type}, vocab_size: 600, max_piece_length: 6, user_defined_symbols: ['<sep>', '@@'], pad_id: 3, unk_id: 0, bos_id: 1, eos_id: 2`);
      assert.equal(model.pieces.length, 600);
      assert.equal(model.trainerSpec.modelType, type);
      assert.deepEqual(
        model.pieces.slice(0, 6).map((p) => [p.piece, p.type]),
        [
          ['<unk>', PieceType.UNKNOWN],
          ['<s>', PieceType.CONTROL],
          ['</s>', PieceType.CONTROL],
          ['<pad>', PieceType.CONTROL],
          ['<sep>', PieceType.USER_DEFINED],
          ['@@', PieceType.USER_DEFINED],
        ],
      );
      const pieces = normalPieces(model);
      assert.equal(new Set(pieces).size, pieces.length, 'no duplicates');
      for (const p of pieces) {
        const chars = [...p];
        assert.ok(chars.length <= 6, `max_piece_length: ${p}`);
        assert.ok(!chars.slice(1).includes('▁'), `▁ only first: ${p}`);
        const body = chars.filter((c) => c !== '▁').join('');
        assert.ok(!(/\p{Script=Latin}/u.test(body) && /[0-9\p{Script=Greek}]/u.test(body)), `mixed scripts/digits: ${p}`);
      }
      for (const expected of ['▁Ein', '▁the', 'Ε', '▁1']) assert.ok(pieces.includes(expected), `learned ${expected}`);
    });
  }

  it('split_digits: every digit stands alone', () => {
    assert.ok(normalPieces(train('type: bpe, vocab_size: 500')).some((p) => /^▁?[0-9]{2,}$/.test(p)), 'digits join without it');
    const pieces = normalPieces(train('type: bpe, vocab_size: 500, split_digits: true'));
    assert.ok(pieces.includes('1'));
    assert.deepEqual(pieces.filter((p) => /[0-9]/.test(p) && [...p].length > 1), []);
  });

  it('character_coverage below 1 leaves rare characters out of the vocabulary', () => {
    const rare = [...CORPUS, 'Ein Ŋ steht hier.'];
    assert.ok(normalPieces(train('type: unigram, vocab_size: 500', rare)).includes('Ŋ'));
    assert.ok(!normalPieces(train('type: unigram, vocab_size: 500, character_coverage: 0.9995', rare)).includes('Ŋ'));
  });

  it('a vocabulary larger than the corpus allows is a UserError naming subword.vocab_size', () => {
    assert.throws(() => train('type: bpe, vocab_size: 5000', CORPUS.slice(0, 20)), (e: unknown) => e instanceof UserError && /subword\.vocab_size: 5000 is too large.*at most \d+/.test(e.message));
    assert.throws(() => train('type: unigram, vocab_size: 20', CORPUS.slice(0, 50)), (e: unknown) => e instanceof UserError && /subword\.vocab_size: 20 is smaller than the alphabet/.test(e.message));
    assert.throws(() => train('type: bpe, vocab_size: 500, unk_id: 2'), (e: unknown) => e instanceof UserError && /subword\.bos_id: id 2 is already used by <unk>/.test(e.message));
  });
});

describe('SentencePieceModel (sentencepiece-js)', () => {
  it('loads a model written by mt: encoding, decoding, ids and pieces from the protobuf', { skip: NO_MULTI30K }, async () => {
    const proto = train('type: unigram, vocab_size: 600');
    const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
    const sp = await SentencePieceModel.load(writeModel(proto));
    assert.deepEqual([process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')], before, 'no global handlers');
    assert.equal(sp.type, 'unigram');
    assert.equal(sp.vocabSize, 600);
    assert.deepEqual([sp.padId, sp.unkId, sp.bosId, sp.eosId], [0, 1, 2, 3]);
    const text = 'Ein Mann fährt Fahrrad.';
    const ids = sp.encodeIds(text);
    assert.ok(ids.length > 3 && ids.every((id) => id > 3 && id < 600));
    assert.deepEqual(sp.encodePieces(text), ids.map((id) => sp.idToPiece(id)));
    assert.deepEqual(ids.map((id) => sp.pieceToId(sp.idToPiece(id))), ids);
    assert.equal(sp.decodeIds([sp.bosId, ...ids, sp.eosId, sp.padId]), text, 'special ids are dropped');
    assert.equal(sp.pieceToId('no such piece'), sp.unkId);
    assert.throws(() => sp.idToPiece(600), RangeError);
  });

  it('a file that is not a usable model is a UserError naming it', async () => {
    const dir = tempDir('mt-subword-');
    const garbage = path.join(dir, 'garbage.model');
    fs.writeFileSync(garbage, Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919) % 256)));
    await assert.rejects(SentencePieceModel.load(garbage), (e: unknown) => e instanceof UserError && e.message.startsWith(`${garbage}: `));
    const empty = path.join(dir, 'empty.model');
    fs.writeFileSync(empty, '');
    await assert.rejects(SentencePieceModel.load(empty), (e: unknown) => e instanceof UserError && /empty\.model: SentencePiece cannot load this model \(.*unk/.test(e.message));
    await assert.rejects(SentencePieceModel.load(path.join(dir, 'missing.model')), (e: unknown) => e instanceof UserError && /missing\.model: cannot read/.test(e.message));
  });
});

/** A run directory with prepared data: the first `n` Multi30k pairs. */
function smallRun(subword: string, n = 1500): RunDir {
  const dir = tempDir('mt-vocab-');
  const yaml = `data: { src_lang: de, tgt_lang: en, train: [{ src: a.de, tgt: a.en }] }\nsubword: { ${subword} }\nmodel: { type: attention }`;
  const run = RunDir.create(path.join(dir, 'run'), parseConfigText(yaml, path.join(dir, 'exp.yaml')));
  fs.mkdirSync(run.path(LAYOUT.data), { recursive: true });
  fs.writeFileSync(run.path(LAYOUT.data, 'train.src'), lines('train.de', n).join('\n') + '\n');
  fs.writeFileSync(run.path(LAYOUT.data, 'train.tgt'), lines('train.en', n).join('\n') + '\n');
  return run;
}

describe('trainSubwords / loadSubwords', { skip: NO_MULTI30K }, () => {
  it('separate source and target models, recorded in the manifest', async () => {
    const run = smallRun('type: bpe, vocab_size: 400, joint: false');
    const summary = await trainSubwords(run, quiet);
    assert.deepEqual(fs.readdirSync(run.path(LAYOUT.subword)).sort(), ['src.model', 'src.vocab', 'tgt.model', 'tgt.vocab']);
    const { src, tgt } = await loadSubwords(run);
    assert.notEqual(src, tgt);
    assert.ok(src.pieceToId('▁Ein') !== src.unkId && tgt.pieceToId('▁Ein') === tgt.unkId, 'German pieces only in the source model');
    const vocabLines = fs.readFileSync(run.path(LAYOUT.subword, 'src.vocab'), 'utf8').split('\n');
    assert.equal(vocabLines[0], '<pad>\t0');
    assert.match(vocabLines[4]!, /^\S+\t-0$/);
    const stage = run.readManifest().stages.vocab as unknown as typeof summary;
    assert.deepEqual(stage.models.map((m) => [m.name, m.file, m.vocab_size]), [
      ['src', 'subword/src.model', 400],
      ['tgt', 'subword/tgt.model', 400],
    ]);
    assert.ok(stage.models[0]!.pieces_per_sentence.src! > 5);
  });

  it('brings the user\'s own model into the run directory', async () => {
    const own = writeModel(train('type: bpe, vocab_size: 450'));
    const run = smallRun(`model: { joint: ${own} }`);
    const summary = await trainSubwords(run, quiet);
    assert.equal(summary.models[0]!.source, own);
    assert.deepEqual(fs.readFileSync(run.path(LAYOUT.subword, 'joint.model')), fs.readFileSync(own));
    fs.rmSync(own);
    const { src, tgt } = await loadSubwords(run);
    assert.equal(src, tgt);
    assert.equal(src.vocabSize, 450);
  });

  it('refuses a brought model without a <pad> piece', async () => {
    const noPad = writeModel(train('type: bpe, vocab_size: 450'));
    const proto = decodeModelProto(fs.readFileSync(noPad));
    proto.pieces[0] = { piece: 'x-not-pad', score: 0, type: PieceType.USER_DEFINED };
    fs.writeFileSync(noPad, encodeModelProto(proto));
    await assert.rejects(trainSubwords(smallRun(`model: { joint: ${noPad} }`), quiet), /subword\.model\.joint: \S+ has no <pad> control piece/);
  });

  it('refuses brought models that do not match subword.joint', async () => {
    await assert.rejects(trainSubwords(smallRun('model: { src: a.model }'), quiet), /subword\.model: subword\.joint is true/);
    await assert.rejects(trainSubwords(smallRun('joint: false, model: { src: a.model }'), quiet), /subword\.model\.tgt: missing/);
  });
});

describe('mt vocab (CLI)', () => {
  function project(): string {
    const dir = tempDir('mt-vocab-cli-');
    fs.writeFileSync(path.join(dir, 'exp.yaml'), 'data: { src_lang: de, tgt_lang: en, train: [{ src: a.de, tgt: a.en }] }\nsubword: { type: unigram, vocab_size: 300 }\nmodel: { type: attention }\n');
    return dir;
  }

  it('without prepared data: exit 2, one line telling to run mt prepare', () => {
    const r = runMt(['vocab', '-c', 'exp.yaml', '--run', 'run'], { cwd: project() });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^mt: error: \S*train\.src: missing; run `mt prepare` on this run directory first\n$/);
  });

  it('trains and prints a summary (--json)', { skip: NO_MULTI30K }, () => {
    const dir = project();
    const data = path.join(dir, 'run', 'data');
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(path.join(data, 'train.src'), lines('train.de', 400).join('\n') + '\n');
    fs.writeFileSync(path.join(data, 'train.tgt'), lines('train.en', 400).join('\n') + '\n');
    const r = runMt(['--json', 'vocab', '-c', 'exp.yaml', '--run', 'run'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { models: { name: string; vocab_size: number; type: string }[] };
    assert.deepEqual(out.models.map((m) => [m.name, m.type, m.vocab_size]), [['joint', 'unigram', 300]]);
    assert.ok(fs.existsSync(path.join(dir, 'run', 'subword', 'joint.model')));
    assert.match(fs.readFileSync(path.join(dir, 'run', 'logs', 'vocab.log'), 'utf8'), /training unigram, 300 pieces/);
  });
});
