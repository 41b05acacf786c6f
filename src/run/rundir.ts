/**
 * The run directory: everything one experiment produces, shared by all stages.
 *
 *   manifest.json        tool version, config hashes, what each stage did and when
 *   config.yaml          the fully resolved config (defaults filled in, absolute paths)
 *   data/                prepared corpora and the cleaning report
 *   subword/             SentencePiece .model files
 *   checkpoints/         model checkpoints (one folder each) and pointers to best/last
 *   logs/                one log per stage, metrics.jsonl from training
 *   translations/        outputs of `mt translate`
 *   scores/              outputs of `mt eval`
 *   plots/               PNG/SVG figures
 *
 * Every file is written atomically. See docs/run-directory.md.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { parseConfigText } from '../config/load.ts';
import { IDENTITY_SECTIONS, type Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { MT_VERSION } from '../version.ts';

export const RUN_FORMAT_VERSION = 1;

export const LAYOUT = {
  manifest: 'manifest.json',
  config: 'config.yaml',
  data: 'data',
  subword: 'subword',
  checkpoints: 'checkpoints',
  logs: 'logs',
  translations: 'translations',
  scores: 'scores',
  plots: 'plots',
} as const;

export interface StageRecord {
  finished_at: string;
  [detail: string]: unknown;
}

export interface Manifest {
  format: 'mt-run';
  format_version: number;
  mt_version: string;
  created_at: string;
  updated_at: string;
  /** sha256 of the identity sections (data, subword, model, train): what makes it the same experiment. */
  identity_hash: string;
  /** sha256 of the whole resolved config. */
  config_hash: string;
  stages: Record<string, StageRecord>;
}

/** Stable JSON: object keys sorted, so equal configs hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

export function identityOf(config: Config): Record<string, unknown> {
  return Object.fromEntries(IDENTITY_SECTIONS.map((s) => [s, config[s]]));
}

function identityHashOf(config: Config): string {
  return sha256(canonicalJson(identityOf(config)));
}

/** Key paths whose values differ between two configs (for "this run was made with …" messages). */
export function diffKeys(a: unknown, b: unknown, prefix = ''): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(a) || !isObj(b)) return [prefix || '(root)'];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((k) => diffKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
}

export class RunDir {
  readonly root: string;
  readonly config: Config;
  /** Whether config.yaml and the manifest's hashes still have to be written for `config`. */
  private uncommitted: boolean;

  private constructor(root: string, config: Config, uncommitted = false) {
    this.root = root;
    this.config = config;
    this.uncommitted = uncommitted;
  }

  path(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  /**
   * Create a run directory for `config`, or reuse one made from the same experiment.
   * A run pinned to a different config is refused unless `force` (then its config is replaced).
   * Only a finished stage pins a config: a first stage that failed (a typo in a corpus path)
   * leaves the run open to the corrected config.
   *
   * A new directory gets its config at once. An existing one's config.yaml and manifest are
   * rewritten at once too, or, with `deferCommit`, only by `commitConfig()` or `recordStage()`:
   * a stage that fails then leaves the run's config as it was.
   */
  static create(root: string, config: Config, opts: { force?: boolean; deferCommit?: boolean } = {}): RunDir {
    const abs = path.resolve(root);
    if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory()) {
      throw new UserError(`${root}: exists and is not a directory (expected a run directory)`);
    }
    const run = new RunDir(abs, config, true);
    if (fs.existsSync(path.join(abs, LAYOUT.manifest))) {
      const existing = RunDir.open(abs);
      const manifest = existing.readManifest();
      const pinned = Object.keys(manifest.stages).length > 0;
      if (pinned && manifest.identity_hash !== identityHashOf(config) && !opts.force) {
        const changed = diffKeys(identityOf(existing.config), identityOf(config));
        const shown = changed.slice(0, 4).join(', ') + (changed.length > 4 ? `, … (${changed.length} keys)` : '');
        throw new UserError(
          `${root}: run directory was made from a different config (changed: ${shown}); use another --run directory or pass --force to reuse it`,
        );
      }
      if (!opts.deferCommit) run.commitConfig();
    } else {
      try {
        fs.mkdirSync(abs, { recursive: true });
      } catch (e) {
        throw new UserError(`${root}: cannot create run directory (${(e as { code?: string }).code ?? String(e)})`);
      }
      // Nothing to lose in a new directory, and a manifest with no stage pins nothing.
      run.commitConfig();
    }
    return run;
  }

  /** Write config.yaml and the manifest's config hashes for this run's config, if not done yet. */
  commitConfig(): void {
    if (!this.uncommitted) return;
    const now = new Date().toISOString();
    const manifest: Manifest = fs.existsSync(this.path(LAYOUT.manifest))
      ? this.readManifest()
      : {
          format: 'mt-run',
          format_version: RUN_FORMAT_VERSION,
          mt_version: MT_VERSION,
          created_at: now,
          updated_at: now,
          identity_hash: '',
          config_hash: '',
          stages: {},
        };
    writeFileAtomic(this.path(LAYOUT.config), configToYaml(this.config));
    this.writeManifest({ ...manifest, identity_hash: identityHashOf(this.config), config_hash: sha256(canonicalJson(this.config)), updated_at: now });
    this.uncommitted = false;
  }

  /** Open an existing run directory; its config.yaml is the only config it needs. */
  static open(root: string): RunDir {
    const abs = path.resolve(root);
    const manifestPath = path.join(abs, LAYOUT.manifest);
    const configPath = path.join(abs, LAYOUT.config);
    if (!fs.existsSync(abs)) throw new UserError(`${root}: no such run directory`);
    if (!fs.statSync(abs).isDirectory()) throw new UserError(`${root}: not a directory (expected a run directory)`);
    if (!fs.existsSync(manifestPath)) throw new UserError(`${root}: not an mt run directory (no ${LAYOUT.manifest})`);
    const manifest = readManifestFile(manifestPath);
    if (manifest.format_version !== RUN_FORMAT_VERSION) {
      throw new UserError(
        `${manifestPath}: run directory format ${manifest.format_version} (mt ${manifest.mt_version}) is not supported by mt ${MT_VERSION} (format ${RUN_FORMAT_VERSION})`,
      );
    }
    if (!fs.existsSync(configPath)) throw new UserError(`${configPath}: missing resolved config`);
    const config = parseConfigText(fs.readFileSync(configPath, 'utf8'), configPath);
    return new RunDir(abs, config);
  }

  readManifest(): Manifest {
    return readManifestFile(this.path(LAYOUT.manifest));
  }

  private writeManifest(m: Manifest): void {
    writeJsonAtomic(this.path(LAYOUT.manifest), m);
  }

  /** Record that a stage finished, with whatever details it wants to keep (committing the config it ran with). */
  recordStage(stage: string, details: Record<string, unknown> = {}): void {
    this.commitConfig();
    const m = this.readManifest();
    const now = new Date().toISOString();
    m.stages[stage] = { ...details, finished_at: now };
    m.updated_at = now;
    this.writeManifest(m);
  }
}

function readManifestFile(file: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: unreadable manifest (${(e as Error).message.split('\n')[0]})`);
  }
  const m = value as Partial<Manifest> | null;
  if (!m || typeof m !== 'object' || m.format !== 'mt-run') throw new UserError(`${file}: not an mt run manifest`);
  // A hand-edited or damaged manifest is named here, not met later as a crash in recordStage.
  const fields: [string, boolean][] = [
    ['format_version', Number.isInteger(m.format_version)],
    ['identity_hash', typeof m.identity_hash === 'string'],
    ['stages', typeof m.stages === 'object' && m.stages !== null && !Array.isArray(m.stages)],
  ];
  const bad = fields.find(([, ok]) => !ok);
  if (bad) throw new UserError(`${file}: damaged mt run manifest (${bad[0]} is missing or of the wrong type)`);
  return m as Manifest;
}

export function configToYaml(config: Config): string {
  return `# Resolved by mt ${MT_VERSION}: defaults filled in, paths absolute. Edit the source config, not this file.\n${toYaml(config)}`;
}
