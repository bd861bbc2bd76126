// ROC-AUC and average precision on small cases worked out by hand (each case's arithmetic is in
// its comment). The first case is also the example in scikit-learn's docstrings of roc_auc_score
// (0.75) and average_precision_score (0.83...). scikit-learn is not installed here, so no value
// was produced by running it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricInputError, averagePrecision, prAuc, rocAuc } from '../../../src/eval/metrics.js';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('scikit-learn docstring example: y=[0,0,1,1], s=[0.1,0.4,0.35,0.8]', () => {
  // Pairs (pos, neg): 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 -> 3/4.
  close(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  // Thresholds 0.8: P=1, R=1/2; 0.4: P=1/2, R=1/2; 0.35: P=2/3, R=1; 0.1: P=1/2, R=1.
  // AP = 1/2*1 + 0 + 1/2*2/3 + 0 = 5/6.
  close(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 5 / 6);
  close(prAuc([false, false, true, true], [0.1, 0.4, 0.35, 0.8]), 5 / 6);
});

test('ties: a tie between a positive and a negative counts one half', () => {
  // y=[1,0,1,0,0], s=[.9,.9,.3,.3,.1]. Pos .9: vs .9 tie 1/2, beats .3 and .1 -> 2.5;
  // pos .3: loses to .9, ties .3 (1/2), beats .1 -> 1.5. AUC = 4/6.
  close(rocAuc([1, 0, 1, 0, 0], [0.9, 0.9, 0.3, 0.3, 0.1]), 4 / 6);
  // Thresholds .9: tp1 fp1 P=1/2 R=1/2; .3: tp2 fp2 P=1/2 R=1; .1: R unchanged. AP = 1/4 + 1/4.
  close(averagePrecision([1, 0, 1, 0, 0], [0.9, 0.9, 0.3, 0.3, 0.1]), 0.5);
  // All scores equal: AUC 1/2, AP = precision at the single threshold = base rate.
  close(rocAuc([0, 1, 0, 1], [2, 2, 2, 2]), 0.5);
  close(averagePrecision([0, 1, 0, 0], [2, 2, 2, 2]), 0.25);
});

test('perfect, inverted and order-independent', () => {
  assert.equal(rocAuc([0, 0, 1], [1, 2, 3]), 1);
  assert.equal(rocAuc([1, 0, 0], [1, 2, 3]), 0);
  assert.equal(averagePrecision([0, 0, 1, 1], [1, 2, 3, 4]), 1);
  // Positive ranked last of 3: P at its threshold = 1/3.
  close(averagePrecision([1, 0, 0], [1, 2, 3]), 1 / 3);
  // Permuting the rows changes nothing.
  close(
    rocAuc([1, 0, 1, 1, 0, 0], [0.35, 0.4, 0.8, 0.2, 0.1, 0.2]),
    rocAuc([0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.4, 0.2, 0.35, 0.8]),
  );
  // That case by hand: pos {.35,.8,.2}, neg {.4,.1,.2}: .35 -> 2, .8 -> 3, .2 -> 1 + 1/2; 6.5/9.
  close(rocAuc([1, 0, 1, 1, 0, 0], [0.35, 0.4, 0.8, 0.2, 0.1, 0.2]), 6.5 / 9);
});

test('bad inputs throw MetricInputError', () => {
  assert.throws(() => rocAuc([1, 1], [0.1, 0.2]), MetricInputError);
  assert.throws(() => averagePrecision([0, 0], [0.1, 0.2]), MetricInputError);
  assert.throws(() => rocAuc([0, 1], [0.1]), MetricInputError);
  assert.throws(() => rocAuc([0, 2], [0.1, 0.2]), MetricInputError);
  assert.throws(() => averagePrecision([0, 1], [Number.NaN, 0.2]), MetricInputError);
});
