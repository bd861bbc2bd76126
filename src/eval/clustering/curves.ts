// The per-epoch health signals a clustering run records (DDCL.md: L_q, L_OLS, V, the identity gap,
// min V, prototype separation and the force norm), and the two statistics the paper reports about
// them: the largest decomposition violation and the separation/force Pearson correlation.
import type { EpochMetrics } from '../../train/config.js';

export interface CurveRow {
  epoch: number;
  T: number;
  Lq: number;
  Lols: number;
  V: number;
  /** |L_q - L_OLS - V|, mean over the epoch's batches. */
  identityGap: number;
  minV: number;
  separation: number;
  forceNorm: number;
  /** Prototypes nearest to at least one row (recorded by the jointly trained runs). */
  usedPrototypes?: number;
  /** Mean over rows of max_k q_ik (1/K uniform, 1 hard). */
  meanMaxQ?: number;
  /** Mean per-dimension variance of the embeddings over the batch. */
  embedVar?: number;
}

export function curveFromEpochs(h: readonly EpochMetrics[]): CurveRow[] {
  return h.map((m) => ({
    epoch: m.epoch,
    T: m.T,
    Lq: m.Lq,
    Lols: m.Lols,
    V: m.V,
    identityGap: m.identityGap,
    minV: m.minV,
    separation: m.separation,
    forceNorm: m.forceNorm,
    usedPrototypes: m.usedPrototypes,
    meanMaxQ: m.meanMaxQ,
    embedVar: m.embedVar,
  }));
}

/** Pearson correlation of two equally long series; NaN when either is constant or shorter than 2. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`pearson: lengths differ (${a.length} vs ${b.length})`);
  const n = a.length;
  if (n < 2) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

export interface CurveStats {
  epochs: number;
  /** Largest |L_q - L_OLS - V| relative to max(|L_q|, 1e-12), over epochs. */
  maxRelativeViolation: number;
  /** Largest |L_q - L_OLS - V| in absolute terms (units of D / scale). */
  maxViolation: number;
  /** Epochs where V < -1e-6 (V >= 0 is a theorem; a negative V would be a bug). */
  negativeV: number;
  /** Pearson correlation of prototype separation and the force norm ||2 Sigmabar P|| over epochs. */
  separationForcePearson: number;
}

export function curveStats(c: readonly CurveRow[]): CurveStats {
  let maxRel = 0;
  let maxAbs = 0;
  let neg = 0;
  for (const r of c) {
    maxAbs = Math.max(maxAbs, r.identityGap);
    maxRel = Math.max(maxRel, r.identityGap / Math.max(Math.abs(r.Lq), 1e-12));
    if (r.minV < -1e-6) neg++;
  }
  return {
    epochs: c.length,
    maxRelativeViolation: maxRel,
    maxViolation: maxAbs,
    negativeV: neg,
    separationForcePearson: pearson(
      c.map((r) => r.separation),
      c.map((r) => r.forceNorm),
    ),
  };
}
