// Explanations for alerts: the nearest prototype, and the input features that deviate most from
// what that prototype represents (the mean and spread of its training members, kept in
// prototypes.json), with value, expected value, deviation (in member standard deviations) and
// direction.

export interface PrototypeStats {
  count: number;
  /** Per input feature, over the training rows nearest to this prototype. */
  mean: number[];
  std: number[];
}

export interface FeatureContribution {
  name: string;
  value: number;
  expected: number;
  /** (value - expected) / spread, signed. */
  deviation: number;
  direction: 'above' | 'below';
}

export interface Explanation {
  prototype: number;
  top: FeatureContribution[];
}

/** Statistics per prototype from the training rows (X row-major n x d) and their nearest prototype. */
export function prototypeStats(
  X: ArrayLike<number>,
  n: number,
  d: number,
  nearest: ArrayLike<number>,
  K: number,
): PrototypeStats[] {
  const sum = Array.from({ length: K }, () => new Float64Array(d));
  const sq = Array.from({ length: K }, () => new Float64Array(d));
  const count = new Array<number>(K).fill(0);
  for (let i = 0; i < n; i++) {
    const k = nearest[i]!;
    count[k]!++;
    const s = sum[k]!;
    const q = sq[k]!;
    for (let j = 0; j < d; j++) {
      const v = X[i * d + j]!;
      s[j]! += v;
      q[j]! += v * v;
    }
  }
  return sum.map((s, k) => {
    const c = count[k]!;
    const mean = Array.from(s, (v) => (c ? v / c : 0));
    const std = Array.from(sq[k]!, (v, j) => (c ? Math.sqrt(Math.max(v / c - mean[j]! ** 2, 0)) : 0));
    return { count: c, mean, std };
  });
}

export class Explainer {
  /** Spread floor per feature: a feature constant within a cluster still gets a finite deviation. */
  private readonly floor: Float64Array;

  constructor(
    private readonly stats: PrototypeStats[],
    private readonly names: string[],
    floor?: ArrayLike<number>,
  ) {
    const d = names.length;
    this.floor = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      // Default floor: a tenth of the feature's average spread over prototypes, at least 1e-3.
      let avg = 0;
      let w = 0;
      for (const s of stats) {
        avg += s.count * (s.std[j] ?? 0);
        w += s.count;
      }
      this.floor[j] = floor ? floor[j]! : Math.max(w ? (0.1 * avg) / w : 0, 1e-3);
    }
  }

  /** Top `top` features of row x (d values from `offset`) against prototype k. */
  explain(x: ArrayLike<number>, offset: number, k: number, top = 3): Explanation {
    const s = this.stats[k];
    if (!s) return { prototype: k, top: [] };
    const d = this.names.length;
    const best: FeatureContribution[] = [];
    for (let j = 0; j < d; j++) {
      const value = x[offset + j]!;
      const expected = s.mean[j]!;
      const deviation = (value - expected) / Math.max(s.std[j]!, this.floor[j]!);
      if (best.length === top && Math.abs(deviation) <= Math.abs(best[best.length - 1]!.deviation)) continue;
      const c: FeatureContribution = {
        name: this.names[j]!,
        value,
        expected,
        deviation,
        direction: deviation >= 0 ? 'above' : 'below',
      };
      let pos = best.length;
      while (pos > 0 && Math.abs(best[pos - 1]!.deviation) < Math.abs(deviation)) pos--;
      best.splice(pos, 0, c);
      if (best.length > top) best.pop();
    }
    return { prototype: k, top: best };
  }
}
