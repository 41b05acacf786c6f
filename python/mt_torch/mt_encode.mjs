// Encode a run directory's prepared train/valid text with mt's own subword models (the
// fallback of data.py where Python has no sentencepiece module). Run from the mt checkout:
//   node python/mt_torch/mt_encode.mjs RUN_DIR OUT.json
import * as fs from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const [runDir, outFile] = process.argv.slice(2);
if (!runDir || !outFile) {
  console.error('usage: node mt_encode.mjs RUN_DIR OUT.json');
  process.exit(2);
}
const { RunDir } = await import('../../src/run/rundir.ts');
const { loadSubwords } = await import('../../src/subword/index.ts');
const { readLinesSync } = await import('../../src/data/lines.ts');
const run = RunDir.open(runDir);
const sw = await loadSubwords(run);
const out = {
  vocab: { src_size: sw.src.vocabSize, tgt_size: sw.tgt.vocabSize, src_pad: sw.src.padId, tgt_pad: sw.tgt.padId, bos: sw.tgt.bosId, eos: sw.tgt.eosId },
};
for (const split of ['train', 'valid']) {
  out[split] = {
    src: readLinesSync(run.path('data', `${split}.src`)).map((l) => sw.src.encodeIds(l)),
    tgt: readLinesSync(run.path('data', `${split}.tgt`)).map((l) => sw.tgt.encodeIds(l)),
  };
}
fs.writeFileSync(outFile, JSON.stringify(out));
