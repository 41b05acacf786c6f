import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  generateCorpus,
  writeCorpus,
  type GeneratedPair,
  type PairStructure,
  type StructNode,
} from '../src/data/generate/index.ts';
import { VERBS } from '../src/data/generate/lexicon-en-ko.ts';
import { UserError } from '../src/errors.ts';
import { runMt, tempDir } from './helpers/cli.ts';

function readDir(dir: string): Record<string, Buffer> {
  return Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}

// The tests' own batchim rule, straight from the Unicode formula: syllable = 0xAC00 + (L*21+V)*28 + T.
function finalOf(syllable: string): number {
  const code = syllable.codePointAt(0)!;
  assert.ok(code >= 0xac00 && code <= 0xd7a3, `not a Hangul syllable: ${syllable}`);
  return (code - 0xac00) % 28;
}
const lastChar = (word: string): string => word.slice(-1);
const EXPECTED: Record<string, [string, string]> = {
  subject: ['이', '가'],
  topic: ['은', '는'],
  object: ['을', '를'],
  and: ['과', '와'],
  location: ['에서', '에서'],
  goal: ['에', '에'],
  recipient: ['에게', '에게'],
};

/** Word indices (on one side) of a node and everything under it. */
function span(s: PairStructure, side: 'src' | 'tgt', id: number): number[] {
  const under = (n: number): boolean => n === id || (n !== null && s.nodes[n]!.parent !== null && under(s.nodes[n]!.parent!));
  return s[side].flatMap((w, i) => (under(w.node) ? [i] : []));
}
const children = (s: PairStructure, id: number): StructNode[] => s.nodes.filter((n) => n.parent === id);
const wordOf = (s: PairStructure, side: 'src' | 'tgt', node: number, role: string): number =>
  s[side].findIndex((w) => w.node === node && w.role === role);

const corpus = generateCorpus('en-ko', { pairs: 1500, seed: 11, validSize: 100, testSize: 100 });
const pairs: GeneratedPair[] = [...corpus.train, ...corpus.valid, ...corpus.test];

describe('en-ko generator: determinism', () => {
  it('the same seed writes a byte-identical corpus; another seed a different one', () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    writeCorpus(generateCorpus('en-ko', { pairs: 200, seed: 5 }), a, { structure: true });
    writeCorpus(generateCorpus('en-ko', { pairs: 200, seed: 5 }), b, { structure: true });
    writeCorpus(generateCorpus('en-ko', { pairs: 200, seed: 6 }), c, { structure: true });
    const [da, db, dc] = [readDir(a), readDir(b), readDir(c)];
    assert.deepEqual(Object.keys(da), ['generated.json', 'test.en', 'test.ko', 'test.structure.jsonl', 'train.en', 'train.ko', 'train.structure.jsonl', 'valid.en', 'valid.ko', 'valid.structure.jsonl']);
    assert.deepEqual(da, db);
    assert.notDeepEqual(da['train.en'], dc['train.en']);
    assert.notDeepEqual(da['train.ko'], dc['train.ko']);
  });

  it('splits have the asked sizes and share no sentence', () => {
    assert.deepEqual([corpus.train.length, corpus.valid.length, corpus.test.length], [1300, 100, 100]);
    assert.equal(new Set(pairs.map((p) => p.src)).size, pairs.length);
  });

  it('polite register changes only the sentence-final verb', () => {
    const plain = generateCorpus('en-ko', { pairs: 50, seed: 3 });
    const polite = generateCorpus('en-ko', { pairs: 50, seed: 3, register: 'polite' });
    plain.train.forEach((p, i) => {
      const q = polite.train[i]!;
      assert.equal(q.src, p.src);
      assert.equal(q.tgt.split(' ').slice(0, -1).join(' '), p.tgt.split(' ').slice(0, -1).join(' '));
      assert.match(p.tgt, /다\.$/);
      assert.match(q.tgt, /요\.$/);
    });
  });
});

describe('en-ko generator: agreement and word order', () => {
  it('the surface strings are the structure words, punctuated', () => {
    for (const { src, tgt, structure: s } of pairs) {
      assert.ok(s);
      assert.deepEqual(src.replace(/[.,]/g, '').split(' ').map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w)), s.src.map((w, i) => (i === 0 ? w.text.charAt(0).toLowerCase() + w.text.slice(1) : w.text)));
      assert.deepEqual(tgt.replace(/\.$/, '').split(' '), s.tgt.map((w) => w.text));
      assert.match(src, /^[A-Z][^.]*\.$/);
    }
  });

  it('every particle matches the batchim of the word it follows (structure and surface)', () => {
    const seen = new Set<string>();
    for (const { tgt, structure: s } of pairs) {
      for (const w of s!.tgt) {
        if (!w.particle) continue;
        assert.equal(w.text, w.base + w.particle.form);
        const [afterConsonant, afterVowel] = EXPECTED[w.particle.kind]!;
        assert.equal(w.particle.form, finalOf(lastChar(w.base)) !== 0 ? afterConsonant : afterVowel, `${w.text} in ${tgt}`);
        seen.add(w.particle.form);
      }
      // From the surface alone: no word of the lexicon ends in 을/를 except through the particle.
      for (const word of tgt.replace(/\.$/, '').split(' ')) {
        if (word.endsWith('를')) assert.equal(finalOf(word.at(-2)!), 0, `${word} in ${tgt}`);
        if (word.endsWith('을')) assert.notEqual(finalOf(word.at(-2)!), 0, `${word} in ${tgt}`);
      }
    }
    for (const form of ['이', '가', '은', '는', '을', '를', '과', '와', '에서', '에', '에게']) assert.ok(seen.has(form), `particle ${form} never generated`);
  });

  it('main-clause subjects take 은/는 when definite, 이/가 otherwise; other subjects 이/가', () => {
    for (const { structure: s } of pairs) {
      for (const np of s!.nodes.filter((n) => n.type === 'np' && n.role === 'subject')) {
        const parent = s!.nodes[np.parent!]!;
        const words = span(s!, 'tgt', np.id);
        const last = s!.tgt[words[words.length - 1]!]!;
        const topic = parent.type === 'clause' && parent.role === 'main' && np.definite;
        assert.equal(last.particle?.kind, topic ? 'topic' : 'subject');
      }
    }
  });

  it('Korean is verb-final (every clause), English puts the verb after the subject', () => {
    for (const { tgt, structure: s } of pairs) {
      const last = s!.tgt[s!.tgt.length - 1]!;
      assert.equal(last.role, 'verb');
      assert.match(tgt, /다\.$/);
      for (const c of s!.nodes.filter((n) => n.type === 'clause' || n.type === 'relative')) {
        const k = span(s!, 'tgt', c.id);
        const verb = wordOf(s!, 'tgt', c.id, 'verb');
        assert.equal(k[k.length - 1], verb, `clause ${c.id} of ${tgt} does not end in its verb`);
        if (c.type === 'clause') {
          const subj = children(s!, c.id).find((n) => n.role === 'subject')!;
          const everb = wordOf(s!, 'src', c.id, 'verb');
          assert.ok(Math.max(...span(s!, 'src', subj.id)) < everb, 'English subject before verb');
          assert.ok(Math.max(...span(s!, 'tgt', subj.id)) < verb, 'Korean subject before verb');
        }
      }
    }
  });

  it('the object comes right before the verb in Korean and after it in English', () => {
    let objects = 0;
    for (const { structure: s } of pairs) {
      for (const c of s!.nodes.filter((n) => n.type === 'clause' || n.type === 'relative')) {
        const obj = children(s!, c.id).find((n) => n.role === 'object');
        if (!obj) continue;
        objects++;
        const k = span(s!, 'tgt', obj.id);
        assert.equal(k[k.length - 1]! + 1, wordOf(s!, 'tgt', c.id, 'verb'));
        assert.equal(s!.tgt[k[k.length - 1]!]!.particle?.kind, 'object');
        assert.ok(Math.min(...span(s!, 'src', obj.id)) > wordOf(s!, 'src', c.id, 'verb'));
      }
    }
    assert.ok(objects > 1000, `only ${objects} objects`);
  });

  it('relative clauses precede their head noun in Korean and follow it in English, in adnominal form', () => {
    let relatives = 0;
    for (const { structure: s } of pairs) {
      for (const r of s!.nodes.filter((n) => n.type === 'relative')) {
        relatives++;
        const head = r.parent!;
        const kHead = wordOf(s!, 'tgt', head, 'head');
        const eHead = wordOf(s!, 'src', head, 'head');
        assert.ok(Math.max(...span(s!, 'tgt', r.id)) < kHead);
        assert.ok(Math.min(...span(s!, 'src', r.id)) > eHead);
        // Adnominal endings 는/은/ㄴ all end in the final consonant ㄴ (index 4).
        assert.equal(finalOf(lastChar(s!.tgt[wordOf(s!, 'tgt', r.id, 'verb')]!.text)), 4);
      }
    }
    assert.ok(relatives > 500, `only ${relatives} relative clauses`);
  });

  it('clause links: 고 for and, 지만 for but, and a because-clause moves before its main clause as 기 때문에', () => {
    let because = 0;
    for (const { structure: s } of pairs) {
      s!.src.forEach((w, i) => {
        if (w.role !== 'conj' || w.text === 'and' && w.node !== 0) return;
        const j = s!.tgt.findIndex((t) => t.key === w.key);
        assert.ok(j >= 0, `${w.text} unaligned`);
        if (w.text === 'and') assert.match(s!.tgt[j]!.text, /고$/);
        if (w.text === 'but') assert.match(s!.tgt[j]!.text, /지만$/);
        if (w.text === 'because') {
          because++;
          assert.equal(s!.tgt[j]!.text, '때문에');
          assert.match(s!.tgt[j - 1]!.text, /기$/);
          const sub = s!.nodes.find((n) => n.role === 'because' && span(s!, 'src', n.id)[0] === i + 1)!;
          const main = sub.parent!;
          const mainOnly = (side: 'src' | 'tgt'): number[] => span(s!, side, main).filter((x) => !span(s!, side, sub.id).includes(x));
          assert.ok(Math.max(...span(s!, 'tgt', sub.id)) < Math.min(...mainOnly('tgt').filter((x) => x !== j)), 'Korean: because-clause first');
          assert.ok(Math.min(...span(s!, 'src', sub.id)) > Math.max(...mainOnly('src').filter((x) => x !== i)), 'English: because-clause last');
        }
      });
    }
    assert.ok(because > 100);
  });

  it('English agreement: a/an, third-person -s, plural nouns after numbers, tense of time adverbs', () => {
    const pasts = new Set(VERBS.map((v) => v.past));
    for (const { src, structure: s } of pairs) {
      const words = src.toLowerCase().replace(/[.,]/g, '').split(' ');
      words.forEach((w, i) => {
        if (w === 'a') assert.match(words[i + 1]!, /^[^aeiou]/, src);
        if (w === 'an') assert.match(words[i + 1]!, /^[aeiou]/, src);
      });
      for (const c of s!.nodes.filter((n) => n.type === 'clause')) {
        const subj = children(s!, c.id).find((n) => n.role === 'subject')!;
        const verb = s!.src[wordOf(s!, 'src', c.id, 'verb')]!.text;
        if (c.tense === 'past') assert.ok(pasts.has(verb), `${verb} is not a past form in ${src}`);
        else assert.equal(verb.endsWith('s'), !subj.plural, `${verb} with ${subj.plural ? 'plural' : 'singular'} subject in ${src}`);
        const time = s!.src.filter((w) => w.node === c.id && w.role === 'adv').map((w) => w.text).join(' ');
        if (/yesterday|last/.test(time)) assert.equal(c.tense, 'past', src);
        if (/now|every/.test(time)) assert.equal(c.tense, 'present', src);
      }
    }
  });

  it('numbers: English plural noun, Korean noun + numeral + counter', () => {
    let counted = 0;
    for (const { structure: s } of pairs) {
      s!.tgt.forEach((w, j) => {
        if (w.role !== 'num') return;
        counted++;
        assert.equal(s!.tgt[j - 1]!.role, 'head');
        assert.equal(s!.tgt[j + 1]!.role, 'counter');
        const en = s!.src.find((x) => x.key === w.key && x.role === 'num')!;
        const head = s!.src.find((x) => x.node === w.node && x.role === 'head')!;
        if (en.text !== 'one') assert.ok(/s$|men$|ren$|mice|fish|sheep|deer|cacti/.test(head.text), `${en.text} ${head.text}`);
      });
    }
    assert.ok(counted > 100);
  });

  it('alignment links each English noun and verb to its Korean translation', () => {
    for (const { structure: s } of pairs) {
      for (const [i, j] of s!.alignment) assert.equal(s!.src[i]!.key, s!.tgt[j]!.key);
      s!.src.forEach((w, i) => {
        if (w.role === 'head' || w.role === 'verb') {
          const links = s!.alignment.filter(([a]) => a === i);
          assert.equal(links.length, 1, `${w.text}`);
          assert.equal(s!.tgt[links[0]![1]]!.role, w.role);
        }
      });
    }
  });
});

describe('en-ko generator: lengths', () => {
  it('covers 3 to 60+ English words with a real share of long sentences', () => {
    const lengths = pairs.map((p) => p.src.split(' ').length);
    const share = (f: (n: number) => boolean): number => lengths.filter(f).length / lengths.length;
    assert.equal(Math.min(...lengths), 3);
    assert.ok(Math.max(...lengths) >= 60, `max ${Math.max(...lengths)}`);
    assert.ok(share((n) => n <= 10) > 0.1, 'short sentences');
    assert.ok(share((n) => n > 30) > 0.25, `long share ${share((n) => n > 30)}`);
    assert.ok(share((n) => n > 50) > 0.08, `longest share ${share((n) => n > 50)}`);
  });
});

describe('copy / reverse / sort tasks', () => {
  for (const [name, expect] of [
    ['copy', (t: string[]) => t],
    ['reverse', (t: string[]) => [...t].reverse()],
    ['sort', (t: string[]) => [...t].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0))],
  ] as const) {
    it(`${name}: every target is the ${name} of its source`, () => {
      const c = generateCorpus(name, { pairs: 300, seed: 1, maxWords: 12 });
      assert.deepEqual([c.srcLang, c.tgtLang], ['in', 'out']);
      for (const p of [...c.train, ...c.valid, ...c.test]) {
        const tokens = p.src.split(' ');
        assert.ok(tokens.length >= 3 && tokens.length <= 12);
        assert.ok(tokens.every((t) => /^[a-t]$/.test(t)));
        assert.deepEqual(p.tgt.split(' '), expect(tokens));
      }
    });
  }

  it('asking for more distinct pairs than exist is a UserError, not a hang', () => {
    assert.throws(() => generateCorpus('copy', { pairs: 100, seed: 1, maxWords: 1 }), UserError);
    assert.throws(() => generateCorpus('copy', { pairs: 10, seed: 1, testSize: 9 }), /leaves no training pairs/);
  });
});

describe('mt data generate (CLI)', () => {
  it('writes the split files and prints a summary', () => {
    const dir = tempDir();
    const r = runMt(['--json', 'data', 'generate', 'en-ko', '--pairs', '60', '--seed', '9', '--out', dir]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { pairs: Record<string, number> };
    assert.deepEqual(summary.pairs, { train: 54, valid: 3, test: 3 });
    for (const [split, count] of Object.entries(summary.pairs)) {
      for (const lang of ['en', 'ko']) {
        assert.equal(fs.readFileSync(path.join(dir, `${split}.${lang}`), 'utf8').split('\n').length - 1, count);
      }
    }
    const again = generateCorpus('en-ko', { pairs: 60, seed: 9 });
    assert.equal(fs.readFileSync(path.join(dir, 'train.ko'), 'utf8'), again.train.map((p) => p.tgt + '\n').join(''));
  });

  it('bad input: exit 2 with one line naming the problem', () => {
    for (const [args, message] of [
      [['data', 'generate', 'en-fr', '--pairs', '10'], /unknown corpus/],
      [['data', 'generate', 'copy', '--pairs', 'ten'], /--pairs: expected an integer/],
    ] as const) {
      const r = runMt([...args, '--out', tempDir()]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
      assert.match(r.stderr, message);
    }
  });
});
