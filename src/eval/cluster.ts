// Clustering metrics: accuracy under the best one-to-one cluster -> class matching (Hungarian,
// via munkres), normalised mutual information (arithmetic mean, sklearn's default) and the
// adjusted Rand index. Labels are any integers (e.g. -1 for noise); only equality matters.
import { munkres } from 'munkres';

export type Labels = ArrayLike<number>;

/** A contingency table: rows = true classes, columns = predicted clusters. */
export interface Contingency {
  /** Distinct true labels, in ascending order (row order). */
  classes: number[];
  /** Distinct predicted labels, in ascending order (column order). */
  clusters: number[];
  /** classes.length x clusters.length counts, row-major. */
  counts: Float64Array;
  n: number;
}

function codes(labels: Labels): { values: number[]; code: Int32Array } {
  const values = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const index = new Map<number, number>();
  values.forEach((v, i) => index.set(v, i));
  const code = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) code[i] = index.get(labels[i]!)!;
  return { values, code };
}

function checkPair(yTrue: Labels, yPred: Labels): void {
  if (yTrue.length !== yPred.length) {
    throw new RangeError(`label arrays differ in length: ${yTrue.length} vs ${yPred.length}`);
  }
  for (const a of [yTrue, yPred]) {
    for (let i = 0; i < a.length; i++) {
      if (!Number.isInteger(a[i])) throw new RangeError(`label ${a[i]} at ${i} is not an integer`);
    }
  }
}

export function contingencyMatrix(yTrue: Labels, yPred: Labels): Contingency {
  checkPair(yTrue, yPred);
  const t = codes(yTrue);
  const p = codes(yPred);
  const K = p.values.length;
  const counts = new Float64Array(t.values.length * K);
  for (let i = 0; i < yTrue.length; i++) counts[t.code[i]! * K + p.code[i]!]! += 1;
  return { classes: t.values, clusters: p.values, counts, n: yTrue.length };
}

/**
 * The best one-to-one matching of predicted clusters to true classes (maximum total overlap).
 * With more clusters than classes the extra clusters map to no class (and count as errors in
 * clusterAccuracy); with fewer, some classes get no cluster.
 */
export function matchClusters(yTrue: Labels, yPred: Labels): Map<number, number> {
  const c = contingencyMatrix(yTrue, yPred);
  return matchFromContingency(c).mapping;
}

function matchFromContingency(c: Contingency): { mapping: Map<number, number>; matched: number } {
  const C = c.classes.length;
  const K = c.clusters.length;
  const mapping = new Map<number, number>();
  if (C === 0 || K === 0) return { mapping, matched: 0 };
  let max = 0;
  for (const v of c.counts) if (v > max) max = v;
  // Cost: rows = clusters, columns = classes; minimising max - overlap maximises overlap.
  const cost: number[][] = [];
  for (let k = 0; k < K; k++) {
    const row = new Array<number>(C);
    for (let j = 0; j < C; j++) row[j] = max - c.counts[j * K + k]!;
    cost.push(row);
  }
  let matched = 0;
  for (const [k, j] of munkres(cost)) {
    mapping.set(c.clusters[k]!, c.classes[j]!);
    matched += c.counts[j * K + k]!;
  }
  return { mapping, matched };
}

/** Fraction of points whose cluster, under the best one-to-one matching, is their class. */
/** Empty labellings score 1, as sklearn does for NMI and ARI. */
export function clusterAccuracy(yTrue: Labels, yPred: Labels): number {
  const c = contingencyMatrix(yTrue, yPred);
  if (c.n === 0) return 1;
  return matchFromContingency(c).matched / c.n;
}

function entropyOf(counts: ArrayLike<number>, n: number): number {
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    const v = counts[i]!;
    if (v > 0) h -= (v / n) * Math.log(v / n);
  }
  return h;
}

function marginals(c: Contingency): { rows: Float64Array; cols: Float64Array } {
  const C = c.classes.length;
  const K = c.clusters.length;
  const rows = new Float64Array(C);
  const cols = new Float64Array(K);
  for (let j = 0; j < C; j++) {
    for (let k = 0; k < K; k++) {
      const v = c.counts[j * K + k]!;
      rows[j]! += v;
      cols[k]! += v;
    }
  }
  return { rows, cols };
}

/** Mutual information in nats (sklearn mutual_info_score). */
export function mutualInfo(yTrue: Labels, yPred: Labels): number {
  return miFromContingency(contingencyMatrix(yTrue, yPred));
}

function miFromContingency(c: Contingency): number {
  const { rows, cols } = marginals(c);
  const K = c.clusters.length;
  const n = c.n;
  let mi = 0;
  for (let j = 0; j < rows.length; j++) {
    for (let k = 0; k < K; k++) {
      const v = c.counts[j * K + k]!;
      if (v > 0) mi += (v / n) * Math.log((v * n) / (rows[j]! * cols[k]!));
    }
  }
  return Math.max(0, mi);
}

/**
 * Normalised mutual information, MI / ((H(true) + H(pred)) / 2), as sklearn's
 * normalized_mutual_info_score with average_method='arithmetic': 1 when both labellings have a
 * single group (or are empty), 0 when MI is 0.
 */
export function nmi(yTrue: Labels, yPred: Labels): number {
  const c = contingencyMatrix(yTrue, yPred);
  const C = c.classes.length;
  const K = c.clusters.length;
  if ((C === 1 && K === 1) || (C === 0 && K === 0)) return 1;
  const mi = miFromContingency(c);
  if (mi === 0) return 0;
  const { rows, cols } = marginals(c);
  const norm = (entropyOf(rows, c.n) + entropyOf(cols, c.n)) / 2;
  return mi / norm;
}

/**
 * Adjusted Rand index, as sklearn's adjusted_rand_score (from the pair confusion matrix, with
 * exact integer arithmetic): 1 for identical partitions up to renaming, about 0 for random ones.
 */
export function ari(yTrue: Labels, yPred: Labels): number {
  const c = contingencyMatrix(yTrue, yPred);
  const { rows, cols } = marginals(c);
  const n = BigInt(c.n);
  let sumSq = 0n;
  for (const v of c.counts) sumSq += BigInt(v) * BigInt(v);
  let rowSq = 0n;
  for (const v of rows) rowSq += BigInt(v) * BigInt(v);
  let colSq = 0n;
  for (const v of cols) colSq += BigInt(v) * BigInt(v);
  // Ordered pair counts (sklearn pair_confusion_matrix).
  const tp = sumSq - n;
  const fp = colSq - sumSq; // together in the prediction, apart in the truth
  const fn = rowSq - sumSq; // together in the truth, apart in the prediction
  const tn = n * n - fp - fn - sumSq;
  if (fn === 0n && fp === 0n) return 1;
  const num = 2n * (tp * tn - fn * fp);
  const den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
  return Number(num) / Number(den);
}

export interface ClusterScores {
  acc: number;
  nmi: number;
  ari: number;
}

/** All three metrics. */
export function clusterScores(yTrue: Labels, yPred: Labels): ClusterScores {
  return { acc: clusterAccuracy(yTrue, yPred), nmi: nmi(yTrue, yPred), ari: ari(yTrue, yPred) };
}
