/**
 * Greedy and beam search on small real models (untrained, and briefly trained on reversal):
 * beam 1 = greedy, beam scores = the model's own teacher-forced scores, exhaustive beam = the
 * true best sequence, beam ≥ greedy, n-best order, length limits, batching, no leaks.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { beamSearch } from '../src/decode/beam.ts';
import { greedyDecode } from '../src/decode/greedy.ts';
import { lengthPenalty, maxOutputLength, type Hypothesis, type SearchOptions } from '../src/decode/search.ts';
import { createModel } from '../src/models/index.ts';
import type { NmtModel } from '../src/models/types.ts';
import { BOS, EOS, PAD, VOCAB, disposeBatch, learnTask, makeBatch, modelConfig, randomSentences } from './helpers/models.ts';

const FAMILIES: Record<string, Record<string, unknown>> = {
  seq2seq: { type: 'seq2seq', emb_size: 16, hidden_size: 32, dropout: 0 },
  attention: { type: 'attention', emb_size: 16, hidden_size: 32, dropout: 0 },
  transformer: { type: 'transformer', d_model: 32, heads: 2, ff_size: 64, encoder_layers: 1, decoder_layers: 1, dropout: 0, max_positions: 64 },
};

const SEARCH: SearchOptions = { bosId: BOS, eosId: EOS, padId: PAD, maxLenA: 1.5, maxLenB: 3, minLen: 0 };
const ALPHA = 0.6;

/** The model's own score of `ids` + eos for `src`, by teacher forcing (independent of the search). */
function forcedLogProb(model: NmtModel, src: number[], ids: number[]): number {
  const batch = makeBatch([src], [ids]);
  const total = tf.tidy(() => {
    const logProbs = tf.logSoftmax(model.forward(batch, false));
    const gold = tf.cast(tf.oneHot(batch.tgtOut, model.tgtVocabSize), 'float32');
    return tf.sum(tf.mul(logProbs, gold));
  });
  const value = total.dataSync()[0]!;
  total.dispose();
  disposeBatch(batch);
  return value;
}

const normalized = (h: Hypothesis) => h.logProb / lengthPenalty(h.ids.length + 1, ALPHA);

describe('decoding search', () => {
  const models: Record<string, NmtModel> = {};
  const src = randomSentences(12, 1, 9, 7);

  before(async () => {
    await initBackend('wasm');
    for (const [name, cfg] of Object.entries(FAMILIES)) models[name] = createModel(modelConfig(cfg), VOCAB, VOCAB, 11);
  });

  for (const family of Object.keys(FAMILIES)) {
    describe(family, () => {
      it('beam size 1 gives exactly the greedy output, with and without a minimum length', () => {
        const model = models[family]!;
        for (const minLen of [0, 4]) {
          const opts = { ...SEARCH, minLen };
          const greedy = greedyDecode(model, src, opts);
          const beam = beamSearch(model, src, { ...opts, beamSize: 1, nbest: 1, lengthPenalty: ALPHA });
          greedy.forEach((g, i) => {
            assert.deepEqual(beam[i]![0]!.ids, g.ids, `sentence ${i}`);
            assert.equal(beam[i]![0]!.logProb, g.logProb, `sentence ${i} log-prob`);
            if (minLen > 0) assert.ok(g.ids.length >= Math.min(minLen, maxOutputLength(src[i]!.length, opts)));
          });
        }
      });

      it('reports the scores the model gives by teacher forcing; n-best lists sorted and distinct; lengths within limits', () => {
        const model = models[family]!;
        const nbest = beamSearch(model, src, { ...SEARCH, beamSize: 5, nbest: 5, lengthPenalty: ALPHA });
        nbest.forEach((list, i) => {
          assert.equal(list.length, 5, `sentence ${i}: 5 hypotheses`);
          assert.equal(new Set(list.map((h) => h.ids.join(' '))).size, list.length, `sentence ${i}: distinct`);
          for (let j = 1; j < list.length; j++) assert.ok(list[j - 1]!.score >= list[j]!.score, `sentence ${i}: sorted`);
          for (const h of list) {
            assert.ok(h.ids.length <= maxOutputLength(src[i]!.length, SEARCH), `sentence ${i}: max length`);
            assert.ok(!h.ids.includes(EOS));
            assert.ok(Math.abs(h.logProb - forcedLogProb(model, src[i]!, h.ids)) < 1e-3, `sentence ${i}: log-prob`);
            assert.ok(Math.abs(h.score - normalized(h)) < 1e-9, `sentence ${i}: length penalty`);
          }
        });
      });

      it('an exhaustive beam finds the best sequence of all (checked by enumeration)', () => {
        const model = models[family]!;
        const sentence = [[4, 7, 9]];
        // Outputs of at most 2 tokens from VOCAB − 1 non-eos ids: 1 + 11 + 121 = 133 sequences.
        const opts = { ...SEARCH, maxLenA: 0, maxLenB: 2 };
        const all = beamSearch(model, sentence, { ...opts, beamSize: 2000, nbest: 2000, lengthPenalty: ALPHA })[0]!;
        assert.equal(all.length, 1 + (VOCAB - 1) + (VOCAB - 1) ** 2);
        let best = -Infinity;
        for (let a = -1; a < VOCAB; a++) {
          for (let b = -1; b < VOCAB; b++) {
            if (a === EOS || b === EOS || (a < 0 && b >= 0)) continue;
            const ids = [a, b].filter((t) => t >= 0);
            best = Math.max(best, forcedLogProb(model, sentence[0]!, ids) / lengthPenalty(ids.length + 1, ALPHA));
          }
        }
        assert.ok(Math.abs(all[0]!.score - best) < 1e-4, `beam best ${all[0]!.score} vs enumerated ${best}`);
        const beam3 = beamSearch(model, sentence, { ...opts, beamSize: 3, nbest: 1, lengthPenalty: ALPHA })[0]![0]!;
        assert.ok(beam3.score <= best + 1e-4);
      });

      it('batched results equal one sentence at a time; no tensors leak', () => {
        const model = models[family]!;
        const before = tf.memory().numTensors;
        const greedy = greedyDecode(model, src, SEARCH);
        const beam = beamSearch(model, src, { ...SEARCH, beamSize: 4, nbest: 2, lengthPenalty: ALPHA });
        assert.equal(tf.memory().numTensors, before, 'live tensors after decoding');
        src.forEach((s, i) => {
          const g = greedyDecode(model, [s], SEARCH)[0]!;
          assert.deepEqual(g.ids, greedy[i]!.ids, `greedy sentence ${i}`);
          assert.ok(Math.abs(g.logProb - greedy[i]!.logProb) < 1e-4);
          const b = beamSearch(model, [s], { ...SEARCH, beamSize: 4, nbest: 2, lengthPenalty: ALPHA })[0]!;
          assert.deepEqual(b.map((h) => h.ids), beam[i]!.map((h) => h.ids), `beam sentence ${i}`);
        });
      });

      if (family !== 'seq2seq') {
        it('returns attention weights per target step over the real source positions', () => {
          const model = models[family]!;
          const opts = { ...SEARCH, attention: true };
          const check = (h: Hypothesis, s: number[]) => {
            assert.equal(h.attention!.length, h.ids.length + 1);
            for (const row of h.attention!) {
              assert.equal(row.length, s.length);
              assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4);
            }
          };
          greedyDecode(model, src, opts).forEach((h, i) => check(h, src[i]!));
          beamSearch(model, src, { ...opts, beamSize: 3, nbest: 3, lengthPenalty: ALPHA }).forEach((l, i) => l.forEach((h) => check(h, src[i]!)));
          const plain = greedyDecode(model, src, SEARCH);
          assert.deepEqual(greedyDecode(model, src, opts).map((h) => h.ids), plain.map((h) => h.ids));
        });
      }
    });
  }

  it("per-head attention (a 2-layer, 4-head Transformer): [step][layer][head][source], rows sum to 1, the last layer's mean is the attention, greedy and beam n-best; the output unchanged; none for the attention family", () => {
    const layers = 2;
    const heads = 4;
    const model = createModel(modelConfig({ ...FAMILIES.transformer, decoder_layers: layers, heads }), VOCAB, VOCAB, 13);
    const opts: SearchOptions = { ...SEARCH, attention: true, attentionHeads: true };
    const check = (h: Hypothesis, s: number[], what: string) => {
      const steps = h.attentionHeads!;
      assert.equal(steps.length, h.ids.length + 1, `${what}: one entry per step`);
      steps.forEach((step, t) => {
        assert.equal(step.length, layers);
        step.forEach((layer, l) => {
          assert.equal(layer.length, heads);
          for (const row of layer) {
            assert.equal(row.length, s.length);
            assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4, `${what}: step ${t} layer ${l} sums to 1`);
          }
        });
        const mean = step[layers - 1]!.reduce((acc, row) => acc.map((v, j) => v + row[j]! / heads), new Array<number>(s.length).fill(0));
        mean.forEach((v, j) => assert.ok(Math.abs(v - h.attention![t]![j]!) < 1e-5, `${what}: step ${t} source ${j}: head mean ${v} vs ${h.attention![t]![j]}`));
      });
    };
    const beamOpts = { beamSize: 4, nbest: 4, lengthPenalty: ALPHA };
    // First without (a fresh model's first step also makes a tensor it keeps).
    const plainGreedy = greedyDecode(model, src, SEARCH);
    const plainBeam = beamSearch(model, src, { ...SEARCH, ...beamOpts });
    const before = tf.memory().numTensors;
    const greedy = greedyDecode(model, src, opts);
    greedy.forEach((h, i) => check(h, src[i]!, `greedy sentence ${i}`));
    const beam = beamSearch(model, src, { ...opts, ...beamOpts });
    beam.forEach((list, i) => list.forEach((h, k) => check(h, src[i]!, `beam sentence ${i} hypothesis ${k}`)));
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    assert.deepEqual(greedy.map((h) => [h.ids, h.logProb]), plainGreedy.map((h) => [h.ids, h.logProb]));
    assert.deepEqual(beam.map((l) => l.map((h) => [h.ids, h.logProb])), plainBeam.map((l) => l.map((h) => [h.ids, h.logProb])));
    assert.ok(plainGreedy.every((h) => h.attentionHeads === undefined && h.attention === undefined));
    model.dispose();

    const rnn = models.attention!;
    for (const h of greedyDecode(rnn, src, opts)) {
      assert.equal(h.attentionHeads, undefined, 'the attention family has no heads');
      assert.equal(h.attention!.length, h.ids.length + 1);
    }
  });

  // Not on every sentence: a sentence stops at K finished hypotheses (as in fairseq), and on a
  // flat, briefly trained model K short ones can finish before the greedy-like path does.
  it('on a briefly trained model beam-5 bests score at least the greedy output (same length penalty) on ≥ 90% of sentences', async () => {
    const model = createModel(modelConfig({ ...FAMILIES.attention, emb_size: 32, hidden_size: 64 }), VOCAB, VOCAB, 5);
    await learnTask(model, { task: 'reverse', maxSteps: 120, lr: 1e-2, evalEvery: 1000 });
    const sentences = randomSentences(40, 3, 8, 4242);
    const greedy = greedyDecode(model, sentences, SEARCH);
    const beam = beamSearch(model, sentences, { ...SEARCH, beamSize: 5, nbest: 5, lengthPenalty: ALPHA });
    const worse = greedy.filter((g, i) => beam[i]![0]!.score < normalized(g) - 1e-6).length;
    assert.ok(worse <= sentences.length / 10, `beam below greedy on ${worse} of ${sentences.length} sentences`);
    const reversed = beam.filter((l, i) => l[0]!.ids.join(' ') === [...sentences[i]!].reverse().join(' ')).length;
    assert.ok(reversed > 0, 'the model learned something');
    model.dispose();
  });
});
