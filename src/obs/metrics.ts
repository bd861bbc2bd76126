// Prometheus metrics for the daemon. One registry per daemon instance (tests run several).
import client from 'prom-client';

export class DdclMetrics {
  readonly registry = new client.Registry();
  readonly eventsIn: client.Counter<'topic'>;
  readonly eventsOut: client.Counter<'sink'>;
  readonly alerts: client.Counter<'topic'>;
  readonly dlq: client.Counter<'code'>;
  readonly batchSeconds: client.Histogram<'stage'>;
  readonly grade: client.Histogram;
  readonly consumerLag: client.Gauge<'topic' | 'partition'>;
  readonly modelInfo: client.Gauge<'model' | 'version'>;
  readonly modelSwaps: client.Counter<'model'>;
  readonly trainingRuns: client.Counter<'result'>;
  readonly trainingSeconds: client.Histogram;
  readonly trainingLoss: client.Gauge<'term'>;
  readonly device: client.Gauge<'stage' | 'requested' | 'actual'>;
  readonly paused: client.Gauge;

  constructor(opts: { collectDefault?: boolean } = {}) {
    const r = [this.registry];
    if (opts.collectDefault !== false)
      client.collectDefaultMetrics({ register: this.registry, prefix: 'ddcl_' });
    this.eventsIn = new client.Counter({
      name: 'ddcl_events_in_total',
      help: 'Records consumed',
      labelNames: ['topic'],
      registers: r,
    });
    this.eventsOut = new client.Counter({
      name: 'ddcl_events_out_total',
      help: 'Records produced, by sink',
      labelNames: ['sink'],
      registers: r,
    });
    this.alerts = new client.Counter({
      name: 'ddcl_alerts_total',
      help: 'Alerts raised',
      labelNames: ['topic'],
      registers: r,
    });
    this.dlq = new client.Counter({
      name: 'ddcl_dlq_total',
      help: 'Records sent to the dead-letter topic, by error code',
      labelNames: ['code'],
      registers: r,
    });
    this.batchSeconds = new client.Histogram({
      name: 'ddcl_batch_seconds',
      help: 'Micro-batch processing time by stage',
      labelNames: ['stage'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    });
    this.grade = new client.Histogram({
      name: 'ddcl_grade',
      help: 'Calibrated anomaly grade',
      buckets: [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999],
      registers: r,
    });
    this.consumerLag = new client.Gauge({
      name: 'ddcl_consumer_lag',
      help: 'High watermark minus processed offset',
      labelNames: ['topic', 'partition'],
      registers: r,
    });
    this.modelInfo = new client.Gauge({
      name: 'ddcl_model_info',
      help: 'Serving model (value 1)',
      labelNames: ['model', 'version'],
      registers: r,
    });
    this.modelSwaps = new client.Counter({
      name: 'ddcl_model_swaps_total',
      help: 'Hot swaps of the serving model',
      labelNames: ['model'],
      registers: r,
    });
    this.trainingRuns = new client.Counter({
      name: 'ddcl_training_runs_total',
      help: 'Training runs by outcome (accepted, rejected, failed)',
      labelNames: ['result'],
      registers: r,
    });
    this.trainingSeconds = new client.Histogram({
      name: 'ddcl_training_seconds',
      help: 'Training run duration',
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers: r,
    });
    this.trainingLoss = new client.Gauge({
      name: 'ddcl_training_loss',
      help: 'Last training run loss terms (L_q, L_OLS, V)',
      labelNames: ['term'],
      registers: r,
    });
    this.device = new client.Gauge({
      name: 'ddcl_device_info',
      help: 'Where each stage actually runs (value 1)',
      labelNames: ['stage', 'requested', 'actual'],
      registers: r,
    });
    this.paused = new client.Gauge({
      name: 'ddcl_consumer_paused',
      help: '1 while fetching is paused for backpressure',
      registers: r,
    });
  }

  private readonly deviceLabels = new Map<string, { requested: string; actual: string }>();

  /** Where a stage runs now: one series per stage (the previous one of that stage is removed). */
  setDevice(stage: 'serve' | 'train', requested: string, actual: string): void {
    const prev = this.deviceLabels.get(stage);
    if (prev) this.device.remove({ stage, ...prev });
    this.device.set({ stage, requested, actual }, 1);
    this.deviceLabels.set(stage, { requested, actual });
  }

  setModel(model: string, version: string): void {
    this.modelInfo.reset();
    this.modelInfo.set({ model, version }, 1);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
