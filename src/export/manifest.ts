/** mt-model.json: what an exported site holds, written by `mt export web` and read by the page. */
export interface WebManifest {
  format: 'mt-web';
  format_version: 1;
  mt_version: string;
  /** The model config of the checkpoint (its `type` is the family). */
  model: { type: 'seq2seq' | 'attention' | 'transformer' } & Record<string, unknown>;
  src_vocab_size: number;
  tgt_vocab_size: number;
  /** The run's seed (createModel needs one; every weight is then replaced). */
  seed: number;
  /** The run's resolved decode settings (beam size, length limits, batch size, …). */
  decode: Record<string, unknown>;
  /** The SentencePiece .model files, relative to the site (the same file twice when joint). */
  subword: { src: string; tgt: string };
  /** The weights file, relative to the site (safetensors, F32 or F16). */
  weights: string;
  weights_dtype: 'F32' | 'F16';
  languages: { src: string; tgt: string };
  /** Which checkpoint, and why it was chosen. */
  checkpoint: { step: number; name: string; why: string };
}
