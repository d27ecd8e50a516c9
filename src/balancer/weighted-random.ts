import type { Picker } from './balancer.ts';
import { WeightedDraw } from './weighted-draw.ts';

/** Weighted random: each acceptable server is chosen with probability weight / total weight. */
export class WeightedRandomPicker implements Picker {
  readonly #draw: WeightedDraw;
  readonly #random: () => number;

  constructor(weights: Float64Array, random: () => number) {
    this.#draw = new WeightedDraw(weights);
    this.#random = random;
  }

  pick(accept?: (index: number) => boolean): number {
    const d = this.#draw;
    d.mark(accept);
    if (d.last === -1) return -1;
    return d.draw(this.#random() * d.total, -1);
  }
}
