// Comparison helpers for the parity tests: normwise relative error, max |a - b| / max |b|.

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den === 0 ? num : num / den;
}

/** Rows whose two smallest reference distances are closer than `tol` may argmin either way. */
export function nearestMismatches(
  got: Int32Array,
  want: Int32Array,
  D: ArrayLike<number>,
  K: number,
  tol: number,
): number {
  let bad = 0;
  for (let i = 0; i < got.length; i++) {
    if (got[i] === want[i]) continue;
    const gap = Math.abs(D[i * K + got[i]!]! - D[i * K + want[i]!]!);
    if (gap > tol * Math.max(1, Math.abs(D[i * K + want[i]!]!))) bad++;
  }
  return bad;
}
