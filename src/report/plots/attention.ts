/**
 * Attention heatmap of one translated sentence: source pieces across the top, target pieces
 * down the side, each cell's shade the weight target piece t gave source piece s. A monotone
 * language pair gives a diagonal; English→Korean (SVO → SOV) shows the verb column jumping to
 * the end of the target.
 */
import * as fs from 'node:fs';
import type { TopLevelSpec } from 'vega-lite';
import { UserError } from '../../errors.ts';
import { parseJsonObjectLine } from './json-line.ts';

/** One sentence's attention: weights[t][s] for target piece t and source piece s. */
export interface AttentionRecord {
  src_pieces: string[];
  tgt_pieces: string[];
  weights: number[][];
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * The record on line `index` (0-based, empty lines not counted) of an attention JSON-lines file
 * as `mt translate --attention` writes it. Field names `source`/`target` are read as
 * `src_pieces`/`tgt_pieces`.
 */
export function readAttentionRecord(file: string, index: number): AttentionRecord {
  if (!fs.existsSync(file)) throw new UserError(`${file}: no such file`);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  let seen = -1;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    seen++;
    if (seen === index) return parseAttentionLine(lines[i]!, `${file}:${i + 1}`);
  }
  throw new UserError(`${file}: --index ${index} is past the last sentence (${seen + 1} in the file)`);
}

export function parseAttentionLine(line: string, where: string): AttentionRecord {
  const o = parseJsonObjectLine(line, where);
  const src = o.src_pieces ?? o.source;
  const tgt = o.tgt_pieces ?? o.target;
  const weights = o.weights;
  if (!isStringArray(src) || !isStringArray(tgt)) throw new UserError(`${where}: expected string arrays src_pieces and tgt_pieces`);
  // mt translate writes an empty record for an empty input line (one output line per input line).
  if (src.length === 0) throw new UserError(`${where}: the source line is empty, so there is no attention to draw; choose another --index`);
  if (tgt.length === 0) throw new UserError(`${where}: the translation is empty, so there is no attention to draw; choose another --index`);
  if (!Array.isArray(weights) || weights.length !== tgt.length) {
    throw new UserError(`${where}: weights must have one row per target piece (${tgt.length})`);
  }
  weights.forEach((row: unknown, t) => {
    if (!Array.isArray(row) || row.length !== src.length || !row.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new UserError(`${where}: weights[${t}] must be ${src.length} numbers, one per source piece`);
    }
  });
  return { src_pieces: src, tgt_pieces: tgt, weights: weights as number[][] };
}

/** Pixels per cell: room for a short piece as a rotated column label. */
const CELL = 24;
const LABEL_SIZE = 12;

/**
 * Extra axis-title padding for labels wider than Vega thinks. Without a canvas Vega estimates
 * every character at 0.8 em, but Hangul and other wide characters take about 1 em.
 */
function wideLabelPadding(pieces: string[]): number {
  const shortfall = (piece: string): number =>
    [...piece].reduce((sum, ch) => sum + (/[\u1100-\u11ff\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]/.test(ch) ? 0.2 : 0), 0);
  return 4 + Math.ceil(Math.max(0, ...pieces.map(shortfall)) * LABEL_SIZE);
}

export function attentionSpec(rec: AttentionRecord, title = 'attention'): TopLevelSpec {
  const values = rec.weights.flatMap((row, t) => row.map((w, s) => ({ s, t, w })));
  // Pieces repeat (▁the, ▁the), so cells are placed by index and labelled by lookup.
  const labels = (pieces: string[]): string => `${JSON.stringify(pieces)}[datum.value]`;
  return {
    title: { text: title, anchor: 'start' },
    data: { values },
    width: CELL * rec.src_pieces.length,
    height: CELL * rec.tgt_pieces.length,
    mark: 'rect',
    encoding: {
      x: {
        field: 's',
        type: 'ordinal',
        axis: {
          title: 'source',
          orient: 'top',
          labelAngle: -60,
          labelAlign: 'left',
          labelExpr: labels(rec.src_pieces),
          labelFontSize: LABEL_SIZE,
          titlePadding: wideLabelPadding(rec.src_pieces),
        },
      },
      y: {
        field: 't',
        type: 'ordinal',
        axis: { title: 'target', labelExpr: labels(rec.tgt_pieces), labelFontSize: LABEL_SIZE, titlePadding: wideLabelPadding(rec.tgt_pieces) },
      },
      color: {
        field: 'w',
        type: 'quantitative',
        title: 'weight',
        scale: { scheme: 'greys', domain: [0, 1] },
      },
    },
  };
}
