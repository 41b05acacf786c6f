/**
 * Learning-rate schedules. The rate of update s (1-based, counted since the schedule started):
 *   constant      lr · w(s)                       w(s) = min(1, s / warmup): linear warmup
 *   plateau       lr · scale · w(s)               scale × factor after `patience` validations without improvement
 *   inverse_sqrt  lr · min(s / W, √(W / s))       peaks at lr after W = warmup steps (fairseq)
 *   noam          lr · d^−½ · min(s^−½, s · W^−1.5)  Vaswani et al.; lr is the factor, d the model size
 * All state is in ScheduleState (JSON), so a resumed run continues with the same rates.
 */
import type { ScheduleState } from '../checkpoint/training-state.ts';
import type { TrainConfig } from '../config/schema.ts';

type ScheduleConfig = TrainConfig['schedule'];

export class LrSchedule {
  private readonly cfg: ScheduleConfig;
  private readonly baseLr: number;
  private readonly modelSize: number;
  private s: ScheduleState;

  /** `modelSize`: d_model or hidden size (noam only). */
  constructor(cfg: ScheduleConfig, baseLr: number, modelSize: number, state?: ScheduleState) {
    this.cfg = cfg;
    this.baseLr = baseLr;
    this.modelSize = modelSize;
    this.s = state ? { ...state } : { type: cfg.type, steps: 0, scale: 1, best: null, bad: 0 };
  }

  /** The rate for the next update. */
  rate(): number {
    const s = this.s.steps + 1;
    const w = Math.max(this.cfg.warmup_steps, 1);
    switch (this.cfg.type) {
      case 'constant':
        return this.baseLr * Math.min(1, s / w);
      case 'plateau':
        return Math.max(this.baseLr * this.s.scale, this.cfg.min_learning_rate) * Math.min(1, s / w);
      case 'inverse_sqrt':
        return this.baseLr * Math.min(s / w, Math.sqrt(w / s));
      case 'noam':
        return this.baseLr * this.modelSize ** -0.5 * Math.min(s ** -0.5, s * w ** -1.5);
    }
  }

  /** Count one applied update. */
  advance(): void {
    this.s.steps += 1;
  }

  /**
   * Report a validation result (`better(a, b)`: a is an improvement on b).
   * Returns true when the plateau schedule lowered the rate.
   */
  observe(value: number, better: (a: number, b: number) => boolean): boolean {
    if (this.cfg.type !== 'plateau') return false;
    if (this.s.best === null || better(value, this.s.best)) {
      this.s.best = value;
      this.s.bad = 0;
      return false;
    }
    this.s.bad += 1;
    if (this.s.bad <= this.cfg.patience) return false;
    this.s.bad = 0;
    const floor = this.cfg.min_learning_rate / this.baseLr;
    const next = Math.max(this.s.scale * this.cfg.factor, floor);
    const lowered = next < this.s.scale;
    this.s.scale = next;
    return lowered;
  }

  state(): ScheduleState {
    return { ...this.s };
  }
}
