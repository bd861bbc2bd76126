// Shared fixtures of the retrain tests: generated card payments (schemas/payment.avsc), encoded
// as the daemon receives them, and a tiny training config that builds a real model in about a second.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroCodec, loadSchemaJson } from '../../../src/codec/index.js';
import { demoFeatureSpec } from '../../../src/daemon/demo.js';
import { PaymentGenerator, type GeneratedEvent, type GeneratorOptions } from '../../../src/demo/generator.js';
import type { ModelRegistry } from '../../../src/registry/registry.js';
import type { TrainConfig } from '../../../src/train/config.js';
import { runTrainJob, type CodecConfig } from '../../../src/train/retrain/job.js';
import { Retrainer, type RetrainerOptions } from '../../../src/train/retrain/retrainer.js';
import type { InlierWindow, WindowSample } from '../../../src/train/retrain/window.js';

export const TINY: Partial<TrainConfig> = {
  epochs: 3,
  widths: [16],
  m: 4,
  K: 4,
  batchSize: 256,
  seed: 1,
  pretrainEpochs: 1,
  lambda: 1,
};

export const paymentSchema = (): object => loadSchemaJson('payment');
export const codecConfig = (): CodecConfig => ({ format: 'avro', readerSchema: paymentSchema() });
export const spec = demoFeatureSpec;

let codec: AvroCodec | undefined;
export const avro = (): AvroCodec => (codec ??= new AvroCodec(paymentSchema()));

export function events(n: number, opts: GeneratorOptions = {}): GeneratedEvent[] {
  return new PaymentGenerator({ seed: 7, anomalyRate: 0, peakPerHour: n / (24 * 0.31), ...opts }).take(n);
}

export function samplesOf(evs: readonly GeneratedEvent[]): WindowSample[] {
  return evs.map((g) => ({ value: avro().encode(g.event as never), timestamp: g.event.event_time }));
}

export function tempDir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'ddcl-retrain-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A retrainer of model 'pay' on the payment stream, TINY config, training in process. */
export function retrainer(
  reg: ModelRegistry,
  window: InlierWindow,
  extra: Partial<RetrainerOptions> = {},
): Retrainer {
  return new Retrainer({
    name: 'pay',
    registry: reg,
    window,
    codec: codecConfig(),
    spec: spec(),
    train: TINY,
    minEvents: 500,
    serving: () => undefined,
    trainer: runTrainJob,
    ...extra,
  });
}
