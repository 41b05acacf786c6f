/**
 * sacreBLEU command lines through the real `mt eval` binary. Every case of
 * test/fixtures/sacrebleu-vectors.json (inputs, options and results of sacreBLEU 2.6.0; how they
 * were made: test/fixtures/README.md) that a sacrebleu command line can express becomes files and
 * the command line with the matching sacreBLEU flags, spelled as sacreBLEU spells them (`-tok`,
 * `-lc`, `-s`, `-sv`, `-cc`, `-cw`, `-sl`, `-w`, `-b`, references before `-i`). Every field printed
 * is compared with sacreBLEU's: in the JSON, scores to 1e-6, counts exactly, signatures without
 * the version field; in text (`-b`, `-sl`), each number to the decimals printed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pyFixed } from '../src/metrics/text.ts';
import { runMt, runMtAsync, tempDir, type CliResult } from './helpers/cli.ts';
import { differences, readVectors } from './helpers/sacrebleu-vectors.ts';

type Options = {
  bleu?: { tokenize?: string; lowercase?: boolean; smooth_method?: string; smooth_value?: number | null; effective_order?: boolean };
  chrf?: ChrfOptions;
  'chrf++'?: ChrfOptions;
  ter?: { normalized?: boolean; no_punct?: boolean; asian_support?: boolean; case_sensitive?: boolean };
};
type ChrfOptions = { char_order?: number; word_order?: number; beta?: number; lowercase?: boolean; whitespace?: boolean; eps_smoothing?: boolean };
type Expected = Record<string, unknown> & { name: string; score: number; signature: string; signature_short: string };

interface VectorsCase {
  name: string;
  level: 'corpus' | 'sentence';
  metrics: string[];
  hypotheses: string[];
  references: string[][];
  options: Options;
  expected: Record<string, Expected | Expected[]>;
}

const vectors = readVectors<VectorsCase>();

/** A number printed with `width` decimals that rounds `expected` (mt's score is within 1e-6 of it). */
function printedDiff(printed: string | undefined, expected: number, width: number, where: string): string[] {
  const decimals = width === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${width}}$`);
  if (printed === undefined || !decimals.test(printed)) return [`${where}: '${printed}' is not a number with ${width} decimals`];
  const ok = Math.abs(Number(printed) - expected) <= 0.5 * 10 ** -width + 1e-6;
  return ok ? [] : [`${where}: printed ${printed}, sacreBLEU's ${expected} to ${width} decimals`];
}

/** sacreBLEU's flags for the case's options; `prefer` picks sacreBLEU's short or long spellings. */
function metricFlags(o: Options, chrf: ChrfOptions | undefined, prefer: 'short' | 'long'): string[] {
  const short = prefer === 'short';
  const args: string[] = [];
  const b = o.bleu;
  if (b) {
    if (b.tokenize !== undefined && b.tokenize !== '13a') args.push(short ? '-tok' : '--tokenize', b.tokenize);
    if (b.lowercase) args.push(short ? '-lc' : '--lowercase');
    if (b.smooth_method !== undefined && b.smooth_method !== 'exp') args.push(short ? '-s' : '--smooth-method', b.smooth_method);
    if (b.smooth_value !== undefined && b.smooth_value !== null) args.push(short ? '-sv' : '--smooth-value', String(b.smooth_value));
  }
  if (chrf) {
    if (chrf.char_order !== undefined && chrf.char_order !== 6) args.push(short ? '-cc' : '--chrf-char-order', String(chrf.char_order));
    if (chrf.beta !== undefined && chrf.beta !== 2) args.push('--chrf-beta', String(chrf.beta));
    if (chrf.whitespace) args.push('--chrf-whitespace');
    if (chrf.lowercase) args.push('--chrf-lowercase');
    if (chrf.eps_smoothing) args.push('--chrf-eps-smoothing');
  }
  const t = o.ter;
  if (t) {
    if (t.case_sensitive) args.push('--ter-case-sensitive');
    if (t.asian_support) args.push('--ter-asian-support');
    if (t.no_punct) args.push('--ter-no-punct');
    if (t.normalized) args.push('--ter-normalized');
  }
  return args;
}

/** chrF and chrF++ options that one set of --chrf-* flags gives both (word order aside). */
function sameChrf(o: Options): boolean {
  const strip = (c: ChrfOptions | undefined) => JSON.stringify({ ...c, word_order: undefined });
  return !o.chrf || !o['chrf++'] || strip(o.chrf) === strip(o['chrf++']);
}

interface CommandLine {
  label: string;
  args: string[];
  /** The differences from sacreBLEU's results in what the command printed. */
  check(r: CliResult): string[];
}

/** `--json`: report.systems[0].scores[key] against expected[metric] for each pair. */
function jsonCheck(c: VectorsCase, pairs: [key: string, metric: string][]): CommandLine['check'] {
  return (r) => {
    const scores = JSON.parse(r.stdout).systems[0].scores as Record<string, unknown>;
    return pairs.flatMap(([key, metric]) => differences(scores[key], c.expected[metric], `${c.name}.${metric}`));
  };
}

/** `-b -w N`: one line per metric. */
function scoreOnlyCheck(c: VectorsCase, metrics: string[], width: number): CommandLine['check'] {
  return (r) => {
    const lines = r.stdout.split('\n').slice(0, -1);
    if (lines.length !== metrics.length) return [`${c.name}: ${lines.length} lines for ${metrics.length} metrics`];
    return metrics.flatMap((m, k) => printedDiff(lines[k], (c.expected[m] as Expected).score, width, `${c.name}.${m}`));
  };
}

/** `-sl` text: sacreBLEU's `NAME|SIGNATURE = SCORE` (BLEU: `… = SCORE p1/p2/p3/p4 (BP = … ref_len = N)`) per line. */
function sentenceTextCheck(c: VectorsCase, metric: string, width: number): CommandLine['check'] {
  const line = /^(\S+?)\|(\S+) = (\S+)(?: (\S+)\/(\S+)\/(\S+)\/(\S+) \(BP = (\S+) ratio = (\S+) hyp_len = (\d+) ref_len = (\d+)\))?$/;
  return (r) => {
    const lines = r.stdout.split('\n').slice(0, -1);
    const expected = c.expected[metric] as Expected[];
    if (lines.length !== expected.length) return [`${c.name}: ${lines.length} lines for ${expected.length} segments`];
    return expected.flatMap((e, i) => {
      const where = `${c.name}.${metric}[${i}]`;
      const m = line.exec(lines[i]!);
      if (!m) return [`${where}: not sacreBLEU's line: ${lines[i]}`];
      const out = [...differences(m[1], e.name, `${where}.name`), ...differences(m[2], e.signature, `${where}.signature`), ...printedDiff(m[3], e.score, width, `${where}.score`)];
      if (metric === 'bleu') {
        const precisions = e.precisions as number[];
        precisions.forEach((p, k) => out.push(...printedDiff(m[4 + k], p, 1, `${where}.precisions[${k}]`)));
        out.push(...printedDiff(m[8], e.bp as number, 3, `${where}.bp`));
        out.push(...printedDiff(m[9], (e.sys_len as number) / (e.ref_len as number), 3, `${where}.ratio`));
        out.push(...differences(Number(m[10]), e.sys_len, `${where}.sys_len`), ...differences(Number(m[11]), e.ref_len, `${where}.ref_len`));
      } else if (m[4] !== undefined) out.push(`${where}: details only BLEU has`);
      return out;
    });
  };
}

const dir = tempDir('mt-sacrebleu-cli-');
const lines = (content: string[]): string => content.map((l) => l + '\n').join('');

/** The case's hypotheses and references as files; references alternately positional (sacreBLEU's way) and -r. */
function files(c: VectorsCase, k: number): { hyp: string; refArgs: string[] } {
  const hyp = path.join(dir, `${c.name}.hyp`);
  fs.writeFileSync(hyp, lines(c.hypotheses));
  const refs = c.references.map((stream, j) => {
    const ref = path.join(dir, `${c.name}.ref${j + 1}`);
    fs.writeFileSync(ref, lines(stream));
    return ref;
  });
  return { hyp, refArgs: k % 2 === 0 ? refs : refs.flatMap((r) => ['-r', r]) };
}

/**
 * A case a sacrebleu command line can express: no line a file cannot hold, no option only the
 * API has (effective order in corpus BLEU; `-sl` turns it on for sentence BLEU, as the case has it).
 */
function expressible(c: VectorsCase): boolean {
  const oneLine = [...c.hypotheses, ...c.references.flat()].every((l) => !/[\r\n]/.test(l) && l === l.trimEnd());
  return oneLine && (c.level === 'sentence' || c.options.bleu?.effective_order !== true);
}

const commands: CommandLine[] = [];
const skipped = vectors.cases.filter((c) => !expressible(c)).map((c) => c.name);
const usable = vectors.cases.filter(expressible);

usable.forEach((c, k) => {
  const { hyp, refArgs } = files(c, k);
  const base = [...refArgs, '-i', hyp];
  const prefer = k % 2 === 0 ? 'short' : 'long';
  if (c.level === 'sentence') {
    // sacreBLEU scores one metric per -sl run; mt takes them all at once (JSON lines).
    commands.push({
      label: `${c.name}: -sl --json, all metrics`,
      args: [...base, '-m', ...c.metrics, '-sl', ...metricFlags(c.options, c.options.chrf, prefer), '--json'],
      check: (r) => {
        const segments = r.stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l) as { segment: number; scores: Record<string, unknown> });
        return c.metrics.flatMap((m) => differences(segments.map((s) => s.scores[m]), c.expected[m], `${c.name}.${m}`));
      },
    });
    c.metrics.forEach((m, j) => {
      const width = [1, 2, 0, 4][j % 4]!;
      const metricArgs = m === 'chrf++' ? ['-m', 'chrf', '-cw', '2'] : ['-m', m];
      const widthArgs = width === 1 ? [] : ['-w', String(width)];
      commands.push({ label: `${c.name}: -sl ${metricArgs.join(' ')} ${widthArgs.join(' ')}`, args: [...base, ...metricArgs, '-sl', ...widthArgs], check: sentenceTextCheck(c, m, width) });
    });
    return;
  }
  if (sameChrf(c.options)) {
    commands.push({
      label: `${c.name}: -m ${c.metrics.join(' ')}`,
      args: [...base, '-m', ...c.metrics, ...metricFlags(c.options, c.options.chrf ?? c.options['chrf++'], prefer), '--json'],
      check: jsonCheck(c, c.metrics.map((m) => [m, m])),
    });
  } else {
    // Different chrF and chrF++ options: one command line each, chrF++ spelled as sacreBLEU does.
    commands.push({ label: `${c.name}: -m chrf`, args: [...base, '-m', 'chrf', ...metricFlags(c.options, c.options.chrf, prefer), '--json'], check: jsonCheck(c, [['chrf', 'chrf']]) });
    commands.push({
      label: `${c.name}: -m chrf -cw 2`,
      args: [...base, '-m', 'chrf', '-cw', '2', ...metricFlags(c.options, c.options['chrf++'], 'short'), '--json'],
      check: jsonCheck(c, [['chrf', 'chrf++']]),
    });
  }
});

/** Cases whose options are all sacreBLEU's defaults, for the variants below. */
const plain = usable.filter((c) => c.level === 'corpus' && c.metrics.length === 4 && metricFlags(c.options, c.options.chrf, 'short').length === 0);
const byName = (name: string): VectorsCase => usable.find((c) => c.name === name)!;
const refsOf = (c: VectorsCase): string[] => c.references.map((_, j) => path.join(dir, `${c.name}.ref${j + 1}`));
const hypOf = (c: VectorsCase): string => path.join(dir, `${c.name}.hyp`);

// Every default spelled out: the same scores, and signatures that say so.
for (const c of plain.slice(0, 2)) {
  commands.push({
    label: `${c.name}: every default explicit`,
    args: [
      ...refsOf(c), '-i', hypOf(c), '-m', 'bleu', 'chrf', 'ter',
      '--tokenize', '13a', '--smooth-method', 'exp', '--chrf-char-order', '6', '--chrf-word-order', '0', '--chrf-beta', '2', '--json',
    ],
    check: jsonCheck(c, [['bleu', 'bleu'], ['chrf', 'chrf'], ['ter', 'ter']]),
  });
}
// Smoothing values spelled out (the fixture's defaults: floor 0.1, add-k 1), in both spellings.
for (const [name, value, spelling] of [['corpus-smooth-floor', '0.1', '-sv'], ['corpus-smooth-add-k', '1', '--smooth-value']] as const) {
  const c = byName(name);
  commands.push({
    label: `${name}: ${spelling} ${value}`,
    args: [...refsOf(c), '-i', hypOf(c), '-m', 'bleu', ...metricFlags(c.options, undefined, 'short'), spelling, value, '--json'],
    check: jsonCheck(c, [['bleu', 'bleu']]),
  });
}
// chrF++ as sacreBLEU spells it.
for (const c of plain.slice(2, 3)) {
  commands.push({ label: `${c.name}: -m chrf --chrf-word-order 2`, args: [...refsOf(c), '-i', hypOf(c), '-m', 'chrf', '--chrf-word-order', '2', '--json'], check: jsonCheck(c, [['chrf', 'chrf++']]) });
}
// -b, with sacreBLEU's default width and with -w.
[undefined, 0, 3].forEach((width, j) => {
  const c = plain[3 + j] ?? plain[j]!;
  const metrics = ['bleu', 'chrf', 'chrf++', 'ter'];
  commands.push({
    label: `${c.name}: -b ${width === undefined ? '' : `-w ${width}`}`,
    args: [...refsOf(c), '-i', hypOf(c), '-m', metrics.join(','), '-b', ...(width === undefined ? [] : ['-w', String(width)])],
    check: scoreOnlyCheck(c, metrics, width ?? 1),
  });
});
// -b on options other than the defaults: smoothing, TER flags, several references.
for (const name of ['ter-no-punct', 'multi-ref-3']) {
  const c = byName(name);
  commands.push({
    label: `${name}: -b -w 4 with its flags`,
    args: [...refsOf(c), '-i', hypOf(c), '-m', ...c.metrics, ...metricFlags(c.options, c.options.chrf, 'long'), '--score-only', '--width', '4'],
    check: scoreOnlyCheck(c, c.metrics, 4),
  });
}
// -lc is BLEU's alone, as in sacreBLEU: chrF stays case-sensitive without --chrf-lowercase.
{
  const c = byName('lowercase');
  commands.push({
    label: 'lowercase: -lc without --chrf-lowercase',
    args: [...refsOf(c), '-i', hypOf(c), '-m', 'bleu', 'chrf', '-lc', '--json'],
    check: (r) => {
      const scores = JSON.parse(r.stdout).systems[0].scores;
      const chrf = c.expected.chrf as Expected;
      const out = differences(scores.bleu, c.expected.bleu, 'lowercase.bleu');
      if (!String(scores.chrf.signature).includes('|case:mixed|')) out.push(`lowercase.chrf: signature ${scores.chrf.signature} should say case:mixed`);
      if (Math.abs(scores.chrf.score - chrf.score) < 1e-6) out.push('lowercase.chrf: -lc lowercased chrF too');
      return out;
    },
  });
}

const results = new Map<CommandLine, CliResult>();
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('sacreBLEU command lines through mt eval', () => {
  before(async () => {
    // Two at a time: each child spends most of its ~0.6 s starting up.
    const queue = [...commands];
    const worker = async (): Promise<void> => {
      for (let cmd = queue.shift(); cmd; cmd = queue.shift()) results.set(cmd, await runMtAsync(['eval', ...cmd.args]));
    };
    await Promise.all([worker(), worker()]);
  });

  it('the fixture is sacreBLEU 2.6.0\'s, and at least 40 command lines come from it', () => {
    assert.equal(vectors.generator.sacrebleu_version, '2.6.0');
    assert.deepEqual(skipped, ['corpus-effective-order-floor'], 'only corpus BLEU with effective order has no sacrebleu flag');
    assert.ok(commands.length >= 40, `${commands.length} command lines`);
    const all = commands.map((c) => c.args.join(' '));
    for (const flag of ['-tok', '--tokenize', '-lc', '-s', '--smooth-method', '-sv', '-cc', '-cw', '--chrf-word-order', '--chrf-beta', '--chrf-whitespace', '--chrf-lowercase', '--chrf-eps-smoothing', '--ter-case-sensitive', '--ter-asian-support', '--ter-no-punct', '--ter-normalized', '-sl', '-w', '--width', '-b', '--score-only', '-r']) {
      assert.ok(all.some((a) => a.split(' ').includes(flag)), `no command line uses ${flag}`);
    }
    assert.ok(commands.some((c) => c.label.startsWith('multi-ref-3')) && commands.some((c) => c.label.startsWith('multi-ref-2')), '2 and 3 references');
  });

  for (const cmd of commands) {
    it(cmd.label, () => {
      const r = results.get(cmd)!;
      assert.equal(r.code, 0, `mt eval ${cmd.args.join(' ')}\n${r.stderr}`);
      assert.deepEqual(cmd.check(r), [], `mt eval ${cmd.args.join(' ')}`);
    });
  }
});

describe('mt eval: sacreBLEU flags, their errors and help', () => {
  const c = byName('basic-en-13a');
  const ref = path.join(dir, 'help-ref');
  const hyp = path.join(dir, 'help-hyp');
  before(() => {
    fs.writeFileSync(ref, lines(c.references[0]!));
    fs.writeFileSync(hyp, lines(c.hypotheses));
  });

  it('--help lists the sacreBLEU options', () => {
    const r = runMt(['eval', '--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const flag of ['--smooth-method', '--smooth-value', '--sentence-level', '--lowercase', '--tokenize', '--chrf-char-order', '--chrf-word-order', '--chrf-beta', '--chrf-whitespace', '--chrf-lowercase', '--ter-case-sensitive', '--ter-asian-support', '--ter-no-punct', '--ter-normalized', '--width', '--score-only']) {
      assert.match(r.stdout, new RegExp(`${flag}\\b`), flag);
    }
    assert.match(r.stdout, /also -sl/);
    assert.match(r.stdout, /also -lc/);
  });

  it('bad values exit 2 with one line naming the flag; -sl refuses what it cannot do', async () => {
    const bad: [string[], RegExp][] = [
      [['--chrf-beta', '0'], /^mt: error: --chrf-beta 0: expected an integer ≥ 1\n$/],
      [['-sv', 'x'], /^mt: error: --smooth-value x: expected a number ≥ 0\n$/],
      [['-s', 'expp'], /^mt: error: -s expp: neither a smoothing method \(exp, floor, add-k, none\) nor a source file\n$/],
      [['-sl', '-i', hyp], /^mt: error: -sl\/--sentence-level scores one system; got 2 hypothesis files\n$/],
    ];
    const runs = await Promise.all(bad.map(([args]) => runMtAsync(['eval', ref, '-i', hyp, ...args])));
    runs.forEach((r, k) => {
      assert.equal(r.code, 2, `${bad[k]![0].join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, bad[k]![1]);
    });
  });

  it('-s FILE is still the source file when FILE is not a smoothing method', () => {
    const r = runMt(['eval', ref, '-i', hyp, '-s', ref, '-m', 'bleu', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.source, ref);
    assert.equal(report.length_basis, 'source');
  });
});

describe('pyFixed', () => {
  it('rounds exact ties to even, as Python prints them', () => {
    // Python: f'{6.25:.1f}' '6.2', f'{18.75:.1f}' '18.8', f'{0.125:.2f}' '0.12', f'{2.5:.0f}' '2', f'{-0.5:.0f}' '-0'.
    const cases: [number, number, string][] = [[6.25, 1, '6.2'], [18.75, 1, '18.8'], [0.125, 2, '0.12'], [2.5, 0, '2'], [3.5, 0, '4'], [-0.5, 0, '-0'], [0.1, 1, '0.1'], [12.345678, 4, '12.3457']];
    for (const [x, d, want] of cases) assert.equal(pyFixed(x, d), want, `${x} to ${d}`);
  });
});
