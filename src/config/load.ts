/**
 * Loading an experiment config: YAML → `--set` overrides → zod validation → resolved paths.
 * Every problem becomes a ConfigError naming file:line:column, the key path and what was expected.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, parse as parseYaml, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors.ts';
import { ConfigSchema, type Config } from './schema.ts';
import { suggestKey } from './suggest.ts';

export type KeyPath = (string | number)[];

/** A config is a page of settings: a bigger file is a mistake (or an attack) to refuse before parsing. */
export const MAX_CONFIG_BYTES = 1 << 20;
/** Unknown keys reported per mapping; the rest are counted. */
const MAX_UNKNOWN_REPORTED = 5;
/** The most characters of a user's value or key an error line quotes. */
const MAX_QUOTED = 80;

/** `text`, or its start and its length when it is long: error lines stay one readable line. */
export function clip(text: string): string {
  return text.length <= MAX_QUOTED ? text : `${text.slice(0, MAX_QUOTED)}… (${text.length} characters)`;
}

export interface ConfigProblem {
  /** `file:line:col` or `--set key` */
  where: string;
  keyPath: string;
  message: string;
}

export class ConfigError extends UserError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more; \`mt config validate\` lists all)` : '';
    super(`${formatProblem(first)}${more}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  return p.keyPath ? `${p.where}: ${clip(p.keyPath)}: ${p.message}` : `${p.where}: ${p.message}`;
}

export interface Override {
  keyPath: string[];
  value: unknown;
  /** The text the user typed, for error messages. */
  text: string;
}

/** Parse `--set a.b.c=value`; the value is read as YAML, so numbers, booleans and lists work. */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UserError(`--set ${clip(text)}: expected KEY=VALUE, e.g. --set train.learning_rate=3e-4`);
  const key = text.slice(0, eq).trim();
  const keyPath = key.split('.');
  if (keyPath.some((k) => k === '' || !/^[A-Za-z0-9_+-]+$/.test(k))) {
    throw new UserError(`--set ${clip(text)}: '${clip(key)}' is not a dotted key path like train.learning_rate`);
  }
  let value: unknown;
  try {
    value = parseYaml(text.slice(eq + 1));
  } catch (e) {
    throw new UserError(`--set ${clip(text)}: value is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return { keyPath, value: value ?? null, text: clip(text) };
}

export function applyOverrides(raw: unknown, overrides: Override[]): Record<string, unknown> {
  const root: Record<string, unknown> = isPlainObject(raw) ? structuredClone(raw) : {};
  for (const o of overrides) {
    let node: Record<string, unknown> = root;
    for (const k of o.keyPath.slice(0, -1)) {
      const next = node[k];
      if (next === undefined || next === null) node[k] = {};
      // Lists are indexed by number (data.train.0.src): a JS array takes string indices too.
      else if (!isPlainObject(next) && !Array.isArray(next)) {
        throw new UserError(`--set ${o.text}: '${clip(k)}' is a ${typeof next}, not a section`);
      }
      node = node[k] as Record<string, unknown>;
    }
    node[o.keyPath[o.keyPath.length - 1]!] = o.value;
  }
  return root;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the YAML file. */
  file: string;
}

export interface LoadOptions {
  overrides?: string[];
}

/** Read, override, validate and resolve a config file. Throws ConfigError / UserError. */
export function loadConfigFile(file: string, opts: LoadOptions = {}): LoadedConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    const st = fs.statSync(abs);
    if (st.isDirectory()) throw new UserError(`${file}: is a directory, expected a YAML config file`);
    // A device or a pipe could be endless (/dev/zero).
    if (!st.isFile()) throw new UserError(`${file}: not a regular file (${st.isCharacterDevice() ? 'a character device' : 'a pipe or socket'}), expected a YAML config file`);
    if (st.size > MAX_CONFIG_BYTES) throw new UserError(`${file}: ${st.size} bytes; a config file is at most 1 MB (${MAX_CONFIG_BYTES} bytes)`);
    text = decodeConfig(fs.readFileSync(abs), file);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as { code?: string }).code;
    throw new UserError(`${file}: cannot read config (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`);
  }
  return { config: parseConfigText(text, file, opts), file: abs };
}

/** Strict UTF-8 without NUL: a mangled config fails at its line instead of turning into odd keys or paths. */
function decodeConfig(bytes: Buffer, file: string): string {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let start = 0, line = 1; start < bytes.length; line++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl;
    const lineBytes = bytes.subarray(start, end);
    if (lineBytes.includes(0)) throw new UserError(`${file}:${line}: NUL byte; a config must be UTF-8 text`);
    try {
      decoder.decode(lineBytes);
    } catch {
      throw new UserError(`${file}:${line}: invalid UTF-8; a config must be UTF-8 text`);
    }
    start = end + 1;
  }
  return decoder.decode(bytes);
}

/** Validate config text; `file` is used for messages and to resolve relative paths. */
export function parseConfigText(text: string, file: string, opts: LoadOptions = {}): Config {
  const lineCounter = new LineCounter();
  // Duplicate keys are found by duplicateKey(): the yaml package's own check is quadratic (40,000 keys took a minute).
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter, prettyErrors: false, uniqueKeys: false });
  const where = (offset: number | undefined): string => {
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((err) => ({ where: where(err.pos[0]), keyPath: '', message: `invalid YAML: ${err.message.split('\n')[0]}` })),
    );
  }
  const duplicate = duplicateKey(doc);
  if (duplicate !== undefined) throw new ConfigError([{ where: where(duplicate), keyPath: '', message: 'invalid YAML: Map keys must be unique' }]);
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (e) {
    // An alias with no anchor, or aliases that expand without bound (the yaml package refuses both here).
    throw new ConfigError([{ where: file, keyPath: '', message: `invalid YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  if (raw !== null && raw !== undefined && !isPlainObject(raw)) {
    throw new ConfigError([{ where: where(0), keyPath: '', message: 'expected a mapping of sections (data:, model:, …) at the top level' }]);
  }
  const overrides = (opts.overrides ?? []).map(parseOverride);
  const merged = applyOverrides(raw ?? {}, overrides);
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(result.error.issues.flatMap((issue) => describeIssue(issue, doc, merged, overrides, where)));
  }
  const overridden = new Set(overrides.map((o) => o.keyPath.join('.')));
  return resolvePaths(result.data, path.dirname(path.resolve(file)), overridden);
}

/** The offset of the first key that repeats one before it in the same mapping (linear in the keys). */
function duplicateKey(doc: Document): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        // Scalars are equal when their values are (1 and "1" differ); other keys only when the same node.
        if (!isScalar(pair.key)) continue;
        const id = `${typeof pair.key.value}:${String(pair.key.value)}`;
        if (seen.has(id)) {
          found = pair.key.range?.[0];
          return visit.BREAK;
        }
        seen.add(id);
      }
      return undefined;
    },
  });
  return found;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  doc: Document,
  data: Record<string, unknown>,
  overrides: Override[],
  where: (offset: number | undefined) => string,
): ConfigProblem[] {
  const issuePath = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const override = overrides.find((o) => o.keyPath.join('.') === issuePath.join('.'));
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(ConfigSchema, issuePath, data);
    const reported = issue.keys.slice(0, MAX_UNKNOWN_REPORTED);
    const rest = issue.keys.length - reported.length;
    return reported.map((key, i) => {
      const fullPath = [...issuePath, key].join('.');
      const fromOverride = overrides.find((o) => o.keyPath.join('.') === fullPath);
      const suggestion = suggestKey(key, known);
      const hint = suggestion ? ` (did you mean \`${suggestion}\`?)` : known.length ? ` (expected one of: ${known.join(', ')})` : '';
      const more = rest > 0 && i === reported.length - 1 ? ` (and ${rest} more unknown keys)` : '';
      return {
        where: fromOverride ? `--set ${fromOverride.text}` : where(keyOffset(doc, issuePath, key)),
        keyPath: fullPath,
        message: `unknown key${hint}${more}`,
      };
    });
  }
  const loc = override ? `--set ${override.text}` : where(valueOffset(doc, issuePath));
  return [{ where: loc, keyPath: issuePath.join('.'), message: explain(issue, data, issuePath) }];
}

function explain(issue: z.core.$ZodIssue, data: Record<string, unknown>, p: KeyPath): string {
  const value = getAt(data, p);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return `missing required key (expected ${issue.expected})`;
      return `expected ${issue.expected}, got ${describeValue(value)}`;
    case 'too_small': {
      const op = issue.inclusive ? '>=' : '>';
      if (issue.origin === 'array') return `expected at least ${issue.minimum} item(s)`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be ${op} ${issue.minimum}, got ${describeValue(value)}`;
    }
    case 'too_big': {
      if (issue.origin === 'array' && Array.isArray(value)) return `at most ${issue.maximum} items, got ${value.length}`;
      if (issue.origin === 'string' && typeof value === 'string') return `at most ${issue.maximum} characters, got ${value.length}`;
      const op = issue.inclusive ? '<=' : '<';
      return `must be ${op} ${issue.maximum}, got ${describeValue(value)}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(value)}`;
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator) {
        const opts = (issue as unknown as { options?: unknown[] }).options ?? [];
        return `expected one of ${opts.map((o) => JSON.stringify(o)).join(', ')}, got ${describeValue(value)}`;
      }
      return `${issue.message} (got ${describeValue(value)})`;
    default:
      return issue.message;
  }
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return v.length <= MAX_QUOTED ? `string ${JSON.stringify(v)}` : `string ${JSON.stringify(`${v.slice(0, MAX_QUOTED)}…`)} (${v.length} characters)`;
  return `${typeof v} ${String(v)}`;
}

function getAt(data: unknown, p: KeyPath): unknown {
  let node = data;
  for (const k of p) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[k];
  }
  return node;
}

/** Offset of the deepest YAML node that exists along `p`. */
function valueOffset(doc: Document, p: KeyPath): number | undefined {
  for (let n = p.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(p.slice(0, n), true);
    if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
      return (node.range as number[])[0];
    }
  }
  return undefined;
}

function keyOffset(doc: Document, mapPath: KeyPath, key: string): number | undefined {
  const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath, true);
  if (isMap(map)) {
    for (const pair of map.items) {
      if (isScalar(pair.key) && String(pair.key.value) === key) return pair.key.range?.[0];
    }
  }
  return valueOffset(doc, mapPath);
}

type AnySchema = z.core.$ZodType;

/** The keys an object schema at `p` accepts (for "did you mean"). */
export function knownKeys(schema: AnySchema, p: KeyPath, data: unknown): string[] {
  const found = new Set<string>();
  const visit = (s: AnySchema, rest: KeyPath, value: unknown): void => {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    switch (def.type) {
      case 'optional':
      case 'default':
      case 'prefault':
      case 'nullable':
        visit(def.innerType as AnySchema, rest, value);
        return;
      case 'union': {
        const options = def.options as AnySchema[];
        const disc = def.discriminator as string | undefined;
        const tag = disc && isPlainObject(value) ? value[disc] : undefined;
        for (const o of options) {
          if (disc && tag !== undefined) {
            const lit = ((o._zod.def as unknown as { shape: Record<string, AnySchema> }).shape[disc]?._zod.def as unknown as { values?: unknown[] })?.values;
            if (lit && !lit.includes(tag)) continue;
          }
          visit(o, rest, value);
        }
        return;
      }
      case 'array':
        if (rest.length > 0) visit(def.element as AnySchema, rest.slice(1), Array.isArray(value) ? value[rest[0] as number] : undefined);
        return;
      case 'object': {
        const shape = def.shape as Record<string, AnySchema>;
        if (rest.length === 0) {
          for (const k of Object.keys(shape)) found.add(k);
          return;
        }
        const child = shape[String(rest[0])];
        if (child) visit(child, rest.slice(1), isPlainObject(value) ? value[String(rest[0])] : undefined);
        return;
      }
      default:
        return;
    }
  };
  visit(schema, p, data);
  return [...found];
}

/**
 * Make file paths absolute. One rule: a path written in a file is relative to that file's folder,
 * a path typed on the command line (a --set value, or inside one: `--set data.valid={src: v.de, …}`)
 * to the current folder.
 */
function resolvePaths(config: Config, baseDir: string, overridden: Set<string>): Config {
  const fromCommandLine = (keyPath: string): boolean => {
    const parts = keyPath.split('.');
    return parts.some((_, i) => overridden.has(parts.slice(0, i + 1).join('.')));
  };
  const abs = (value: string, keyPath: string): string =>
    path.resolve(fromCommandLine(keyPath) ? process.cwd() : baseDir, value);
  const corpus = <C extends Config['data']['train'][number]>(c: C, prefix: string): C => {
    if ('tsv' in c) return { ...c, tsv: abs(c.tsv, `${prefix}.tsv`) };
    return { ...c, src: abs(c.src, `${prefix}.src`), tgt: abs(c.tgt, `${prefix}.tgt`) };
  };
  const data = {
    ...config.data,
    train: config.data.train.map((c, i) => corpus(c, `data.train.${i}`)),
    valid: config.data.valid && corpus(config.data.valid, 'data.valid'),
    test: config.data.test && corpus(config.data.test, 'data.test'),
  };
  const model = config.subword.model;
  const subword = {
    ...config.subword,
    model: model && {
      joint: model.joint && abs(model.joint, 'subword.model.joint'),
      src: model.src && abs(model.src, 'subword.model.src'),
      tgt: model.tgt && abs(model.tgt, 'subword.model.tgt'),
    },
  };
  return { ...config, data, subword };
}
