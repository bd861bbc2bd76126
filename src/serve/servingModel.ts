// A loaded model, ready for the hot path: featurizer, ONNX Runtime session, calibration and
// explanations. The daemon holds one and swaps it between micro-batches.
import { Featurizer } from '../features/index.js';
import type { ModelArtifact } from '../registry/artifact.js';
import type { ScoreBatch } from '../model/types.js';
import { Calibrator, gradeColumns, type CalibrationState, type ScoreColumns } from './calibration.js';
import {
  planDevice,
  probeDevices,
  describeOutcome,
  type DeviceReport,
  type DeviceRequest,
} from './device.js';
import { Explainer } from './explain.js';
import { OnnxScorer } from './scorer.js';

export interface ServingModelOptions {
  device?: DeviceRequest;
  threads?: number;
}

export class ServingModel {
  private constructor(
    readonly name: string,
    readonly version: string,
    readonly featurizer: Featurizer,
    readonly scorer: OnnxScorer,
    readonly calibrator: Calibrator,
    readonly explainer: Explainer,
    readonly device: DeviceReport,
    readonly artifact: ModelArtifact,
  ) {}

  get dim(): number {
    return this.featurizer.dim;
  }

  static async fromArtifact(a: ModelArtifact, opts: ServingModelOptions = {}): Promise<ServingModel> {
    const featurizer = Featurizer.fromJSON(a.features);
    const plan = planDevice(opts.device ?? 'auto', await probeDevices());
    const scorer = await OnnxScorer.create(a.onnx, {
      executionProviders: plan.providers,
      ...(opts.threads ? { intraOpThreads: opts.threads } : {}),
    });
    if (scorer.inputDim !== featurizer.dim)
      throw new Error(
        `${a.dir}: model.onnx takes ${scorer.inputDim} inputs but features.json makes ${featurizer.dim}`,
      );
    const calibrator = new Calibrator(a.calibration as unknown as CalibrationState);
    const explainer = new Explainer(a.prototypes.stats, [...featurizer.names]);
    const device = describeOutcome('serve', plan, scorer.executionProvider, scorer.providerFailures);
    return new ServingModel(
      a.manifest.name,
      a.manifest.version,
      featurizer,
      scorer,
      calibrator,
      explainer,
      device,
      a,
    );
  }

  /**
   * Scores n feature rows (X: n x dim) and returns the columns the calibrator grades: ONNX
   * Runtime's outputs, plus the input deviation when this model's calibration uses it.
   */
  async score(X: Float32Array, n: number): Promise<ScoreBatch & ScoreColumns> {
    const b = await this.scorer.score(X.subarray(0, n * this.dim), n);
    return gradeColumns(
      b as ScoreBatch & ScoreColumns,
      this.calibrator.state,
      this.artifact.prototypes.stats,
      X,
      n,
      this.dim,
    );
  }

  async release(): Promise<void> {
    await this.scorer.release();
  }
}
