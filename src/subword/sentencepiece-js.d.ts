/**
 * Types for @agnai/sentencepiece-js (a fork of sentencepiece-js 1.1.0 without its global error
 * handlers), which ships none. Only what src/subword/sentencepiece.ts uses is declared; the
 * `processor` member is the package's internal embind SentencePieceProcessor, whose status()
 * says whether load() worked (load() itself ignores it).
 */
declare module '@agnai/sentencepiece-js' {
  interface EmbindStatus {
    ToString(): string;
    delete(): void;
  }

  interface EmbindProcessor {
    status(): EmbindStatus;
  }

  export class SentencePieceProcessor {
    /** Reads the `.model` file at `path` into a fresh WebAssembly instance. */
    load(path: string): Promise<void>;
    encodeIds(text: string): number[];
    encodePieces(text: string): string[];
    decodeIds(ids: number[]): string;
    processor: EmbindProcessor;
  }

  const pkg: { SentencePieceProcessor: typeof SentencePieceProcessor };
  export default pkg;
}
