/**
 * sacreBLEU's reproducibility signatures, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`
 * and the short form `#:1|c:mixed|e:no|tok:13a|s:exp|v:2.6.0`.
 *
 * `version` names the sacreBLEU release whose behaviour these metrics reproduce (checked against
 * its results in test/metrics.test.ts), so a score signed here reads the same as one from sacreBLEU.
 */

export const SACREBLEU_VERSION = '2.6.0';

/** Resampling settings that sacreBLEU adds to a signature (bootstrap samples, AR trials, seed). */
export interface Resampling {
  bootstrap?: number;
  trials?: number;
  seed?: number;
}

interface SignatureField {
  key: string;
  short: string;
  value: string | number | boolean;
}

export interface Signed {
  signature: string;
  signature_short: string;
}

/** Fields in sacreBLEU's order: nrefs, bs, ar, seed, the metric's own fields, version. */
export function formatSignature(nrefs: number, fields: SignatureField[], resampling: Resampling = {}): Signed {
  const all: SignatureField[] = [{ key: 'nrefs', short: '#', value: nrefs }];
  if (resampling.bootstrap !== undefined) all.push({ key: 'bs', short: 'bs', value: resampling.bootstrap });
  if (resampling.trials !== undefined) all.push({ key: 'ar', short: 'ar', value: resampling.trials });
  if (resampling.seed !== undefined) all.push({ key: 'seed', short: 'rs', value: resampling.seed });
  all.push(...fields, { key: 'version', short: 'v', value: SACREBLEU_VERSION });
  const show = (v: SignatureField['value']): string => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));
  return {
    signature: all.map((f) => `${f.key}:${show(f.value)}`).join('|'),
    signature_short: all.map((f) => `${f.short}:${show(f.value)}`).join('|'),
  };
}
