/**
 * Figures: a Vega-Lite spec is compiled and rendered to SVG by Vega (headless, no browser), and
 * the SVG rasterised to PNG by resvg. resvg is given font files explicitly, never the system's
 * font configuration, so Korean pieces render the same on every machine that has the font
 * package (Debian: fonts-nanum) instead of as empty boxes on some.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../../util/atomic.ts';

/** Fonts with Hangul (and Latin) glyphs, best first: Debian's fonts-nanum, then fonts-noto-cjk. */
const HANGUL_FONTS: readonly PlotFont[] = [
  { family: 'NanumGothic', file: '/usr/share/fonts/truetype/nanum/NanumGothic.ttf' },
  { family: 'NanumBarunGothic', file: '/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf' },
  { family: 'Noto Sans CJK KR', file: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc' },
];
/** Text that needs a Hangul font (figures without it never warn). */
const HANGUL_TEXT = /\p{Script=Hangul}/u;
/** For glyphs the Hangul fonts lack, such as SentencePiece's word mark ▁ (U+2581). */
const FALLBACK_FONTS: readonly PlotFont[] = [{ family: 'DejaVu Sans', file: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf' }];

export interface PlotFont {
  family: string;
  file: string;
}

/**
 * The fonts figures use, in order of preference: MT_PLOT_FONT=/path/font.ttf (family from
 * MT_PLOT_FONT_FAMILY, default the file name) if set, else the first installed Hangul font;
 * then DejaVu Sans if installed. `hangul` is false when no Hangul font was found.
 */
export function findPlotFonts(env: NodeJS.ProcessEnv = process.env): { fonts: PlotFont[]; hangul: boolean } {
  const installed = (fonts: readonly PlotFont[]): PlotFont[] => fonts.filter((f) => fs.existsSync(f.file));
  const custom = env.MT_PLOT_FONT
    ? [{ file: env.MT_PLOT_FONT, family: env.MT_PLOT_FONT_FAMILY ?? path.basename(env.MT_PLOT_FONT).replace(/\.[^.]+$/, '') }]
    : [];
  const hangul = [...custom, ...installed(HANGUL_FONTS)].slice(0, 1);
  return { fonts: [...hangul, ...installed(FALLBACK_FONTS)], hangul: hangul.length > 0 };
}

export interface Figure {
  svg: string;
  /** undefined where resvg's platform package is not installed (the SVG is still drawn). */
  png: Uint8Array | undefined;
  width: number;
  height: number;
}

type ResvgClass = typeof import('@resvg/resvg-js').Resvg;

/**
 * resvg, or why it cannot load: its native binary is a per-platform optional dependency, which
 * `npm install --omit=optional` (the way to skip the tfjs-node download) leaves out too.
 */
async function loadResvg(): Promise<ResvgClass | string> {
  try {
    return (await import('@resvg/resvg-js')).Resvg;
  } catch (e) {
    const first = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return `PNG figures need @resvg/resvg-js's platform package, which is not installed (${first}); only the SVG was written — reinstall with plain \`npm install\` (not --omit=optional)`;
  }
}

export interface RenderOptions {
  /** PNG pixels per SVG unit (2 = sharp on high-density screens and in documents). */
  scale?: number;
  /** Called when the figure has Hangul text and no Hangul font is installed (the PNG then shows no Korean). */
  warn?: (message: string) => void;
}

/** Renders a Vega-Lite spec to SVG text and PNG bytes. */
export async function renderFigure(spec: TopLevelSpec, opts: RenderOptions = {}): Promise<Figure> {
  const { fonts, hangul } = findPlotFonts();
  const themed = {
    ...spec,
    background: 'white',
    config: { font: [...fonts.map((f) => f.family), 'sans-serif'].join(', '), ...spec.config },
  } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(themed).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    if (!hangul && HANGUL_TEXT.test(svg)) {
      opts.warn?.('no font with Korean glyphs found (install fonts-nanum, or set MT_PLOT_FONT): Hangul in the PNG will not render');
    }
    const Resvg = await loadResvg();
    if (typeof Resvg === 'string') {
      opts.warn?.(Resvg);
      const size = /<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"/.exec(svg);
      return { svg, png: undefined, width: Number(size?.[1] ?? 0), height: Number(size?.[2] ?? 0) };
    }
    const resvg = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: opts.scale ?? 2 },
      // Only these files, not the system's font configuration: the same pixels everywhere.
      font: fonts.length > 0
        ? { loadSystemFonts: false, fontFiles: fonts.map((f) => f.file), defaultFontFamily: fonts[0]!.family }
        : { loadSystemFonts: true },
    });
    const image = resvg.render();
    return { svg, png: image.asPng(), width: image.width, height: image.height };
  } finally {
    view.finalize();
  }
}

/** Writes NAME.svg and NAME.png (where there is one) into `dir` atomically; returns their paths. */
export function writeFigure(figure: Figure, dir: string, name: string): string[] {
  const svg = path.join(dir, `${name}.svg`);
  writeFileAtomic(svg, figure.svg);
  if (figure.png === undefined) return [svg];
  const png = path.join(dir, `${name}.png`);
  writeFileAtomic(png, figure.png);
  return [svg, png];
}
