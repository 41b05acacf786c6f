/**
 * The exported site's page: text in (one sentence per line), the translation, the n-best list,
 * and the attention heatmap of the first line's best hypothesis (target pieces × source pieces;
 * hover a target piece to light up its source weights). Built on the DOM of index.html.
 * mt serve's page (src/serve/page.html) calls its server's /v1/translate, so it is not reused.
 */
import type { Translation } from '../../decode/translate.ts';
import type { LoadedSite } from './site.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function heatmap(t: Translation | undefined): void {
  const table = $<HTMLTableElement>('heatmap');
  const pieces = $('pieces');
  table.innerHTML = '';
  pieces.innerHTML = '';
  table.dataset.active = '-1';
  const a = t?.alignment;
  if (!a) return;
  const src = a.source.map((p) => {
    const s = document.createElement('span');
    s.className = 'src-piece';
    s.textContent = p;
    pieces.append(s);
    return s;
  });
  const head = table.createTHead().insertRow();
  head.insertCell().textContent = '';
  for (const p of a.source) head.insertCell().textContent = p;
  const body = table.createTBody();
  a.target.forEach((piece, i) => {
    const row = body.insertRow();
    const label = row.insertCell();
    label.textContent = piece;
    label.className = 'tgt-piece';
    label.dataset.index = String(i);
    a.weights[i]!.forEach((w) => {
      const c = row.insertCell();
      c.style.background = `rgba(40, 90, 200, ${w.toFixed(3)})`;
      c.title = w.toFixed(3);
    });
    label.addEventListener('mouseenter', () => {
      table.dataset.active = String(i);
      for (const r of body.rows) r.classList.toggle('active', r === row);
      src.forEach((s, j) => (s.style.background = `rgba(40, 90, 200, ${a.weights[i]![j]!.toFixed(3)})`));
    });
  });
}

/** Wire the page to the loaded model (or show why it did not load). */
export function mountPage(site: LoadedSite | undefined, error?: string): void {
  const status = $('status');
  if (!site) {
    $('error').textContent = `The model did not load: ${error}`;
    document.body.dataset.state = 'error';
    return;
  }
  const m = site.manifest;
  $('model').textContent = `${m.model.type} model, ${m.languages.src} → ${m.languages.tgt}, checkpoint step ${m.checkpoint.step} (${m.weights_dtype} weights)`;
  status.textContent = `tfjs ${site.backend} backend; loaded in ${site.loadMs.toFixed(0)} ms`;
  const beam = $<HTMLInputElement>('beam');
  beam.value = String(m.decode.beam_size ?? 1);
  const button = $<HTMLButtonElement>('translate');
  button.disabled = false;
  document.body.dataset.state = 'ready';
  button.addEventListener('click', () => {
    document.body.dataset.state = 'busy';
    $('error').textContent = '';
    // Let the page paint "busy" before the (synchronous) decode.
    setTimeout(() => {
      try {
        const lines = $<HTMLTextAreaElement>('source').value.split('\n');
        const t0 = performance.now();
        const out = site.translate(lines, { beam: Number(beam.value), nbest: Number($<HTMLInputElement>('nbest-count').value), attention: true });
        const ms = performance.now() - t0;
        $('translation').textContent = out.map((t) => t.text).join('\n');
        const list = $('nbest');
        list.innerHTML = '';
        for (const h of out[0]?.hypotheses ?? []) {
          const li = document.createElement('li');
          li.innerHTML = '<span class="hyp"></span> <span class="score"></span>';
          li.querySelector('.hyp')!.textContent = h.text;
          li.querySelector('.score')!.textContent = h.score.toFixed(4);
          list.append(li);
        }
        heatmap(out[0]);
        status.textContent = `tfjs ${site.backend} backend; ${out.length} line(s) in ${ms.toFixed(0)} ms`;
        document.body.dataset.state = 'done';
      } catch (e) {
        $('error').textContent = e instanceof Error ? e.message : String(e);
        document.body.dataset.state = 'error';
      }
    }, 0);
  });
}
