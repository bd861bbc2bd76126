import { bool, num, printJson, str, type Parsed } from '../args.js';
import type { Command } from '../main.js';

export const demo: Command = {
  spec: {
    name: 'demo',
    summary:
      'The embedded default: generated card payments with injected anomalies run through the whole pipeline in process (no Kafka needed), or with --kafka through a real broker and the daemon.',
    description:
      'The first window trains the first model (DDCL, exported to ONNX); then events are scored as they\n' +
      'arrive, alerts print with their explanation, and /healthz, /readyz and /metrics are served.\n' +
      'At the end a summary compares the alerts with the anomalies the generator injected.',
    options: {
      events: {
        kind: 'number',
        help: 'events to stream after the training window (0: until Ctrl-C)',
        default: 30000,
      },
      window: { kind: 'number', help: 'events in the first training window', default: 10000 },
      rate: { kind: 'number', help: 'events per second (0: as fast as possible)', default: 5000 },
      batch: { kind: 'number', help: 'micro-batch size', default: 256 },
      seed: { kind: 'number', help: 'generator seed', default: 7 },
      'anomaly-rate': { kind: 'number', help: 'fraction of events with an injected anomaly', default: 0.002 },
      threshold: { kind: 'number', help: 'alert when the grade reaches this', default: 0.999 },
      'http-port': {
        kind: 'number',
        help: 'port of the HTTP endpoints on 127.0.0.1 (0: any free port)',
        default: 9464,
      },
      'no-http': { kind: 'boolean', help: 'do not serve the HTTP endpoints' },
      registry: {
        kind: 'string',
        help: 'model registry folder (default: a temporary folder)',
        placeholder: 'DIR',
      },
      quiet: { kind: 'boolean', help: 'do not print each alert' },
      kafka: {
        kind: 'string',
        help: 'brokers (host:port,...): produce the events to a real broker and run the daemon against it',
        placeholder: 'BROKERS',
      },
      client: {
        kind: 'string',
        help: 'Kafka client with --kafka',
        choices: ['confluent', 'kafkajs'],
        default: 'confluent',
      },
      topic: {
        kind: 'string',
        help: 'input topic with --kafka (default: a fresh ddcl-demo-payments-<time>)',
        placeholder: 'TOPIC',
      },
      json: { kind: 'boolean', help: 'print the summary as one JSON line' },
    },
    examples: [
      'ddcl demo',
      'ddcl demo --events 0 --rate 2000',
      'ddcl demo --kafka 127.0.0.1:19092 --events 20000',
    ],
  },
  async run(p: Parsed): Promise<number> {
    const { UserError } = await import('../args.js');
    const events = num(p, 'events')!;
    const window = num(p, 'window')!;
    const threshold = num(p, 'threshold')!;
    if (!(events >= 0) || !Number.isInteger(events))
      throw new UserError(`--events must be a whole number >= 0, got ${events}`);
    if (!(window >= 200) || !Number.isInteger(window))
      throw new UserError(`--window must be a whole number >= 200, got ${window}`);
    if (!(threshold > 0 && threshold <= 1))
      throw new UserError(`--threshold must be in (0, 1], got ${threshold}`);
    const { runDemo, runDemoKafka } = await import('../../daemon/demo.js');
    const { parseBrokers } = await import('../../stream/index.js');
    const kafka = str(p, 'kafka');
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const opts = {
      events,
      window,
      rate: num(p, 'rate')!,
      batch: num(p, 'batch')!,
      seed: num(p, 'seed')!,
      anomalyRate: num(p, 'anomaly-rate')!,
      alertThreshold: threshold,
      http: { enabled: !bool(p, 'no-http'), host: '127.0.0.1', port: num(p, 'http-port')! },
      ...(str(p, 'registry') ? { registry: str(p, 'registry')! } : {}),
      quiet: bool(p, 'quiet') || bool(p, 'json'),
      train: {},
      signal: ac.signal,
    };
    const summary = kafka
      ? await runDemoKafka({
          ...opts,
          brokers: parseBrokers(kafka),
          client: str(p, 'client') as 'confluent' | 'kafkajs',
          ...(str(p, 'topic') ? { topic: str(p, 'topic')! } : {}),
        })
      : await runDemo(opts);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (bool(p, 'json')) printJson(summary);
    else {
      if ('topic' in summary)
        process.stdout.write(
          `\nthrough Kafka: input ${summary.topic}, enriched ${summary.topic}.ddcl.enriched, alerts ddcl.alerts`,
        );
      const kinds = Object.entries(summary.byKind)
        .map(([k, v]) => `${k} ${v.caught}/${v.injected}`)
        .join(', ');
      process.stdout.write(
        `\n${summary.events} events scored at ${Math.round(summary.events_per_s)} events/s; ${summary.alerts} alerts; ` +
          `${summary.caught} of ${summary.injected} injected anomalies caught (recall ${summary.recall.toFixed(2)}, precision ${summary.precision.toFixed(2)}); ` +
          `false alert rate ${(summary.falseAlertRate * 100).toFixed(3)}%\nby kind: ${kinds}\nmodel ${summary.model.name}@${summary.model.version} on ${summary.model.device}, trained in ${summary.trainSeconds.toFixed(1)} s\n`,
      );
    }
    return 0;
  },
};
