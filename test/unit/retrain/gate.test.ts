import assert from 'node:assert/strict';
import type { JsonValue } from '../../../src/registry/artifact.js';
import { before, describe, it } from 'node:test';
import { exportScoringModel } from '../../../src/serve/onnx/export.js';
import { buildModel, type BuiltModel } from '../../../src/train/buildModel.js';
import {
  checkTraining,
  DEFAULT_GATE,
  decisionJson,
  ksDistance,
  validateChallenger,
} from '../../../src/train/retrain/gate.js';
import { events, spec, TINY } from './fixtures.js';

describe('validation gate', () => {
  let serving: BuiltModel;
  let good: BuiltModel;
  const slice = events(600, { seed: 21 }).map((e) => e.event);

  before(async () => {
    serving = await buildModel(
      spec(),
      events(2000, { seed: 7 }).map((e) => e.event),
      { train: TINY },
    );
    good = await buildModel(
      spec(),
      events(2000, { seed: 8 }).map((e) => e.event),
      { train: { ...TINY, seed: 2 } },
    );
  });

  it('accepts a healthy challenger trained on the same traffic', async () => {
    const d = await validateChallenger(good.parts, 4, serving.parts, slice);
    assert.equal(d.accepted, true, JSON.stringify(d.reasons));
    assert.equal(d.compared, true);
    assert.equal(d.reasons.length, 0);
    assert.ok(typeof d.metrics.gradeKs === 'number' && d.metrics.gradeKs <= DEFAULT_GATE.maxGradeKs);
    assert.ok(typeof d.metrics.challengerAlertRate === 'number');
    const j = decisionJson(d) as { accepted: boolean; metrics: Record<string, unknown> };
    assert.equal(j.accepted, true);
    assert.equal(j.metrics.slice, slice.length);
  });

  it('rejects non-finite loss terms (NaN becomes null in the manifest JSON)', async () => {
    const hist = structuredClone(good.parts.trainingMetrics) as { [k: string]: JsonValue }[];
    hist[1]!.L_q = null;
    const d = await validateChallenger({ ...good.parts, trainingMetrics: hist }, 4, serving.parts, slice);
    assert.equal(d.accepted, false);
    assert.deepEqual(
      d.reasons.map((r) => r.code),
      ['non-finite-loss'],
    );
    assert.match(d.reasons[0]!.message, /L_q@1/);
  });

  it('rejects a model whose ONNX graph scores NaN', async () => {
    const model = structuredClone(good.result.model);
    model.backbone.layers[0]!.W[0] = Number.NaN;
    const d = await validateChallenger(
      { ...good.parts, onnx: exportScoringModel(model) },
      4,
      serving.parts,
      slice,
    );
    assert.equal(d.accepted, false);
    assert.ok(
      d.reasons.some((r) => r.code === 'non-finite-score'),
      JSON.stringify(d.reasons),
    );
  });

  it('rejects a collapsed model (a window of one repeated event)', async () => {
    const one = events(1)[0]!.event;
    const same = Array.from({ length: 600 }, (_, i) => ({
      ...one,
      event_id: `e${i}`,
      event_time: one.event_time + i,
    }));
    const collapsed = await buildModel(spec(), same, { train: { ...TINY, pretrainEpochs: 0, lambda: 0 } });
    const { reasons, metrics } = checkTraining(collapsed.parts.trainingMetrics, 4, DEFAULT_GATE);
    const codes = reasons.map((r) => r.code);
    assert.ok(codes.includes('collapsed'), JSON.stringify(reasons));
    assert.ok(codes.includes('low-separation'));
    assert.ok((metrics.V as number) < DEFAULT_GATE.collapseV);
    assert.ok((metrics.meanMaxQ as number) < DEFAULT_GATE.collapseMaxQ);
  });

  it('rejects dead prototypes beyond the bound', () => {
    const hist = structuredClone(good.parts.trainingMetrics) as { [k: string]: JsonValue }[];
    hist[hist.length - 1]!.usedPrototypes = 1;
    const { reasons, metrics } = checkTraining(hist, 4, DEFAULT_GATE);
    assert.deepEqual(
      reasons.map((r) => r.code),
      ['dead-prototypes'],
    );
    assert.equal(metrics.deadFraction, 0.75);
  });

  it('rejects a challenger that does worse than serving on the held-back slice', async () => {
    // Trained on traffic whose amounts are a hundred times larger (and so a hundred times the
    // cards' 30-day averages): today's payments look anomalous to it.
    const shifted = events(2000, { seed: 8 }).map((e) => ({ ...e.event, amount: e.event.amount * 100 }));
    const worse = await buildModel(spec(), shifted, { train: { ...TINY, seed: 2 } });
    assert.deepEqual(
      checkTraining(worse.parts.trainingMetrics, 4, DEFAULT_GATE).reasons,
      [],
      'it trained healthily',
    );
    const d = await validateChallenger(worse.parts, 4, serving.parts, slice);
    assert.equal(d.accepted, false);
    const codes = d.reasons.map((r) => r.code);
    assert.ok(codes.includes('alert-rate'), JSON.stringify(d.reasons));
    assert.ok(codes.includes('grade-shift'));
    assert.ok((d.metrics.challengerAlertRate as number) > (d.metrics.alertRateLimit as number));
  });

  it('KS distance: 0 for equal samples, 1 for disjoint ones', () => {
    assert.equal(ksDistance([0.1, 0.2, 0.3], [0.3, 0.1, 0.2]), 0);
    assert.equal(ksDistance([0.1, 0.2], [0.8, 0.9]), 1);
    assert.equal(ksDistance([0, 1], [0.5]), 0.5);
  });
});
