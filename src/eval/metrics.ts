// Threshold-free detection metrics: ROC-AUC (Mann-Whitney form, ties count one half) and PR-AUC
// as average precision (scikit-learn's average_precision_score: sum over distinct thresholds of
// (R_k - R_{k-1}) * P_k, ties in score taken together).

/** The inputs of a metric are unusable (which argument, and why). */
export class MetricInputError extends Error {
  override readonly name = 'MetricInputError';
  constructor(
    readonly metric: string,
    readonly reason: string,
  ) {
    super(`${metric}: ${reason}`);
  }
}

/** Labels: 1/true = anomaly (positive), 0/false = normal. */
export type BinaryLabels = ArrayLike<number | boolean>;

function check(
  metric: string,
  labels: BinaryLabels,
  scores: ArrayLike<number>,
): { pos: number; neg: number; y: Uint8Array } {
  if (labels.length !== scores.length) {
    throw new MetricInputError(metric, `${labels.length} labels but ${scores.length} scores`);
  }
  const y = new Uint8Array(labels.length);
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const v = l === true ? 1 : l === false ? 0 : l;
    if (v !== 0 && v !== 1) throw new MetricInputError(metric, `label ${i} is ${String(l)}, not 0 or 1`);
    if (Number.isNaN(scores[i]!)) throw new MetricInputError(metric, `score ${i} is NaN`);
    y[i] = v;
    pos += v;
  }
  return { pos, neg: labels.length - pos, y };
}

/** Indices sorted by score, decreasing. */
function orderDesc(scores: ArrayLike<number>): Uint32Array {
  const o = new Uint32Array(scores.length);
  for (let i = 0; i < o.length; i++) o[i] = i;
  return o.sort((a, b) => (scores[b]! > scores[a]! ? 1 : scores[b]! < scores[a]! ? -1 : 0));
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting 1/2 (Mann-Whitney U / (P*N) with mid-ranks). Equals scikit-learn's
 * roc_auc_score for binary labels. Throws when one class is absent (as scikit-learn does).
 */
export function rocAuc(labels: BinaryLabels, scores: ArrayLike<number>): number {
  const { pos, neg, y } = check('rocAuc', labels, scores);
  if (pos === 0 || neg === 0) throw new MetricInputError('rocAuc', 'needs both positive and negative labels');
  const o = orderDesc(scores);
  // Walk tie groups from the top: each positive beats the negatives below its group and ties
  // with the negatives in it.
  let u = 0;
  let negAbove = 0;
  for (let i = 0; i < o.length;) {
    let j = i;
    let p = 0;
    let q = 0;
    const s = scores[o[i]!]!;
    while (j < o.length && scores[o[j]!]! === s) {
      if (y[o[j]!]) p++;
      else q++;
      j++;
    }
    const negBelow = neg - negAbove - q;
    u += p * negBelow + 0.5 * p * q;
    negAbove += q;
    i = j;
  }
  return u / (pos * neg);
}

/**
 * Average precision (PR-AUC without interpolation), as scikit-learn's average_precision_score:
 * over the distinct scores s from the top, `sum (recall(s) - recall(prev)) * precision(s)` with
 * detections `score >= s`. Throws when there are no positives (scikit-learn warns and gives a
 * meaningless value there).
 */
export function averagePrecision(labels: BinaryLabels, scores: ArrayLike<number>): number {
  const { pos, y } = check('averagePrecision', labels, scores);
  if (pos === 0) throw new MetricInputError('averagePrecision', 'needs at least one positive label');
  const o = orderDesc(scores);
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  for (let i = 0; i < o.length;) {
    const s = scores[o[i]!]!;
    let j = i;
    while (j < o.length && scores[o[j]!]! === s) {
      if (y[o[j]!]) tp++;
      else fp++;
      j++;
    }
    const recall = tp / pos;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
    i = j;
  }
  return ap;
}

/** PR-AUC, reported as average precision. */
export const prAuc = averagePrecision;
