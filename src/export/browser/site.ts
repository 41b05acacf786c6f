/** What the site's script hands the page (page.ts) once the model is loaded (entry.ts). */
import type { Translation } from '../../decode/translate.ts';
import type { NmtModel } from '../../models/types.ts';
import type { SubwordPair } from '../../subword/types.ts';
import type { WebManifest } from '../manifest.ts';

export interface WebTranslateOptions {
  beam?: number;
  nbest?: number;
  attention?: boolean;
}

export interface LoadedSite {
  manifest: WebManifest;
  model: NmtModel;
  subwords: SubwordPair;
  backend: string;
  /** Milliseconds from script start to a loaded model. */
  loadMs: number;
  translate(lines: string[], opts?: WebTranslateOptions): Translation[];
}
