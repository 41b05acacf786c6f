/**
 * mt's SentencePiece trainers against spm_train 0.1.97 (Debian's), issue 15: the C++ details mt
 * replays (C's %g with round-half-even in `.vocab`, libstdc++'s unordered_map order, spm's pair
 * fingerprint), BPE's 0.1.97 counting rules and largest vocabulary on tiny corpora, and — where
 * spm_train and ../shared are present — models identical to spm_train's on a real sample.
 * The expected values without spm_train were produced by spm_train 0.1.97 / g++ 12 (libstdc++).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CxxHashMapOrder } from '../src/subword/cxx-hash-map.ts';
import { decodeModelProto, encodeModelProto, PieceType, type ModelProto } from '../src/subword/model-proto.ts';
import { trainSentencePiece, type TrainerOptions } from '../src/subword/train.ts';
import { fingerprintCat } from '../src/subword/train-bpe.ts';
import { formatG, formatVocab } from '../src/subword/trainer-common.ts';
import { tempDir } from './helpers/cli.ts';
import { missingShared, missingTool, sharedLines } from './helpers/requirements.ts';

function options(type: 'bpe' | 'unigram', vocabSize: number): TrainerOptions {
  return {
    type,
    vocabSize,
    characterCoverage: 1,
    maxPieceLength: 16,
    splitDigits: false,
    userDefinedSymbols: [],
    inputSentenceSize: 0,
    seed: 1,
    padId: 0,
    unkId: 1,
    bosId: 2,
    eosId: 3,
    inputs: ['corpus'],
    modelPrefix: 'test',
  };
}

/** The largest vocabulary mt can make of `lines`, from its refusal of a far too large one. */
function maxVocab(type: 'bpe' | 'unigram', lines: string[]): number {
  try {
    trainSentencePiece(lines, options(type, 100_000));
  } catch (e) {
    const m = /at most (\d+) pieces/.exec((e as Error).message);
    if (m) return Number(m[1]);
    throw e;
  }
  throw new Error('a vocabulary of 100000 was accepted');
}

describe('C++ details that decide what spm writes', () => {
  it('.vocab scores: C %g, 6 significant digits, exact ties rounded half to even', () => {
    // Values checked against `std::cout << float` (glibc).
    const cases: [number, string][] = [
      [-8.953125, '-8.95312'],
      [-8.953135, '-8.95313'],
      [-13.0591, '-13.0591'],
      [999999.5, '1e+06'],
      [1234567, '1.23457e+06'],
      [123456, '123456'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [-0.5, '-0.5'],
      [0, '0'],
      [-0, '-0'],
      [2 ** -20, '9.53674e-07'],
    ];
    for (const [x, want] of cases) assert.equal(formatG(Math.fround(x)), want, String(x));
    const model: ModelProto = {
      pieces: [
        { piece: '<unk>', score: 0, type: PieceType.UNKNOWN },
        { piece: '▁a', score: -8.953125, type: PieceType.NORMAL },
      ],
      trainerSpec: {},
      normalizerSpec: {},
    };
    assert.equal(formatVocab(model), '<unk>\t0\n▁a\t-8.95312\n');
  });

  it("std::unordered_map<uint64_t, …>'s iteration order, inserts and erases (libstdc++)", () => {
    const map = new CxxHashMapOrder();
    const keys = new Map<number, [number, number]>();
    const insert = (id: number, hi: number, lo: number) => {
      map.insert(id, hi, lo);
      keys.set(id, [hi, lo]);
    };
    const order = () => {
      const out: number[] = [];
      map.forEach((id) => out.push(id));
      return out.join(' ');
    };
    for (let i = 0; i < 25; i++) insert(i, 0, i * 7 + 3);
    assert.equal(order(), '24 23 22 21 20 19 18 17 16 15 14 13 0 1 2 3 4 5 6 7 8 9 10 11 12');
    for (const i of [3, 10, 17]) map.erase(i);
    insert(25, 3735928559, 4276215469);
    insert(26, 305419896, 2271560481);
    assert.equal(order(), '24 23 25 22 21 20 19 18 16 15 14 13 0 1 26 2 4 5 6 7 8 9 11 12');
    assert.equal(map.size, 24);
  });

  it("spm's pair fingerprint (port::FingerprintCat)", () => {
    const fp = (x: bigint, y: bigint) => {
      const [hi, lo] = fingerprintCat(Number(x >> 32n), Number(x & 0xffffffffn), Number(y >> 32n), Number(y & 0xffffffffn));
      return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
    };
    assert.equal(fp(97n, 98n), '10510675418498980266');
    assert.equal(fp(44032n, 97n), '6270874713857082287');
    assert.equal(fp(12345678901234n, 98765432109876n), '1048771578927464725');
  });
});

describe('BPE: spm 0.1.97 rules', () => {
  const lines = ['aaa', 'aaa', 'aaa', 'bc', 'bc', 'bc', 'bc'];

  it('"aaa" counts the pair "aa" once (so "bc" comes first), as spm_train does', () => {
    const model = trainSentencePiece(lines, options('bpe', 12));
    assert.deepEqual(
      model.pieces.map((p) => p.piece),
      ['<pad>', '<unk>', '<s>', '</s>', 'bc', '▁bc', 'aa', 'aaa', 'a', '▁', 'b', 'c'],
    );
  });

  it('pairs that no longer occur still become pieces once the others are used: at most 16 pieces here, as spm_train', () => {
    assert.equal(maxVocab('bpe', lines), 16);
  });
});

const NO_MULTI30K = missingShared('data/multi30k/train.de', 'data/multi30k/train.en');

describe('the largest vocabulary of 20 Multi30k pairs (de + en) is spm_train\'s', { skip: NO_MULTI30K }, () => {
  const pairs = () => [...sharedLines('data/multi30k/train.de', 20), ...sharedLines('data/multi30k/train.en', 20)];
  it('BPE: 1752 pieces', () => assert.equal(maxVocab('bpe', pairs()), 1752));
  it('unigram: 333 pieces', () => assert.equal(maxVocab('unigram', pairs()), 333));
});

const NO_SPM = missingTool('spm_train', 'sentencepiece') ?? missingShared('data/korean-english-news/test.ko', 'data/korean-english-news/test.en');

describe('identical to spm_train --num_threads=1 on 1000 Korean + 1000 English news lines (3000 pieces)', { skip: NO_SPM }, () => {
  for (const type of ['unigram', 'bpe'] as const) {
    it(`${type}: same pieces, order and scores; .vocab as spm_train and spm_export_vocab write it`, () => {
      const dir = tempDir('mt-subword-parity-');
      const files = ['ko', 'en'].map((lang) => {
        const file = path.join(dir, `sample.${lang}`);
        fs.writeFileSync(file, sharedLines(`data/korean-english-news/test.${lang}`, 1000).join('\n') + '\n');
        return file;
      });
      const prefix = path.join(dir, 'spm');
      execFileSync('spm_train', [
        `--input=${files.join(',')}`,
        `--model_prefix=${prefix}`,
        `--model_type=${type}`,
        '--vocab_size=3000',
        '--character_coverage=1.0',
        '--pad_id=0',
        '--unk_id=1',
        '--bos_id=2',
        '--eos_id=3',
        '--num_threads=1',
        '--minloglevel=2',
      ]);
      const lines = files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean));
      const model = trainSentencePiece(lines, options(type, 3000));
      const spmModel = decodeModelProto(fs.readFileSync(`${prefix}.model`));
      const dump = (m: ModelProto) => m.pieces.map((p) => `${p.piece}\t${p.score}\t${p.type}`);
      const [ours, theirs] = [dump(model), dump(spmModel)];
      const first = ours.findIndex((l, i) => l !== theirs[i]);
      assert.equal(first, -1, `first difference at id ${first}: mt ${ours[first]} / spm ${theirs[first]}`);
      const vocab = formatVocab(model);
      assert.equal(vocab, fs.readFileSync(`${prefix}.vocab`, 'utf8'));
      const mtFile = path.join(dir, 'mt.model');
      fs.writeFileSync(mtFile, encodeModelProto(model));
      assert.equal(vocab, execFileSync('spm_export_vocab', [`--model=${mtFile}`]).toString('utf8'));
    });
  }
});
