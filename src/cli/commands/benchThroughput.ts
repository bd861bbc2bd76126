import { hostname, cpus, totalmem } from 'node:os';
import { bool, num, printJson, str, UserError, type Parsed } from '../args.js';
import type { Command } from '../main.js';

export const benchThroughput: Command = {
  spec: {
    name: 'bench throughput',
    summary: 'Events/s and latency of the scoring path, in process or through a real Kafka broker.',
    description:
      "In process: pre-encoded generated payments (Avro) through the daemon's processor (decode,\n" +
      'featurize, ONNX scoring, calibration, explanations, output records), micro-batch by micro-batch;\n' +
      'p50/p99 are per batch. With --kafka: the daemon on a real broker. Events/s: a backlog of --events\n' +
      'pre-produced events, from the first fetch to the last enriched ack; each run is followed by a\n' +
      'pass-through run (records copied to the enriched topic unscored, same client settings): the\n' +
      'ceiling of client and broker on this machine, reported beside it. p50/p99: end to end, from\n' +
      "each record's produce timestamp to its enriched output's ack, at a fixed --rate. Medians of\n" +
      "--runs runs. The model has the demo's architecture (trained for a few epochs first).",
    options: {
      kafka: { kind: 'string', help: 'brokers (host:port,...): run through Kafka', placeholder: 'BROKERS' },
      client: {
        kind: 'string',
        help: 'Kafka client',
        choices: ['confluent', 'kafkajs'],
        default: 'confluent',
      },
      events: { kind: 'number', help: 'events per run (default 100000 in process, 200000 through Kafka)' },
      batch: { kind: 'number', help: 'micro-batch size (batch.size)', default: 512 },
      runs: { kind: 'number', help: 'runs (the median is reported)', default: 3 },
      rate: { kind: 'number', help: 'events/s for the latency run (--kafka)', default: 10000 },
      'latency-seconds': { kind: 'number', help: 'length of each latency run (--kafka)', default: 5 },
      partitions: { kind: 'number', help: 'partitions of the input topic (--kafka)', default: 3 },
      'linger-ms': { kind: 'number', help: 'batch.lingerMs: longest fetch wait (--kafka)', default: 5 },
      'max-in-flight': { kind: 'number', help: 'batch.maxInFlight (--kafka)', default: 8 },
      concurrency: {
        kind: 'number',
        help: 'batch.concurrency: partitions processed at once (--kafka)',
        default: 4,
      },
      threads: { kind: 'number', help: 'ONNX Runtime intra-op threads', default: 1 },
      json: { kind: 'boolean', help: 'print the result as one JSON line' },
    },
    examples: ['ddcl bench throughput --json', 'ddcl bench throughput --kafka 127.0.0.1:19092 --json'],
  },
  async run(p: Parsed): Promise<number> {
    const t = await import('../../daemon/throughput.js');
    const { parseBrokers } = await import('../../stream/index.js');
    const kafka = str(p, 'kafka');
    const int = (k: string, min: number): number => {
      const v = num(p, k)!;
      if (!Number.isInteger(v) || v < min)
        throw new UserError(`--${k} must be a whole number >= ${min}, got ${v}`);
      return v;
    };
    const events = num(p, 'events') ?? (kafka ? 200_000 : 100_000);
    if (!Number.isInteger(events) || events < 1000)
      throw new UserError(`--events must be a whole number >= 1000, got ${events}`);
    const batch = int('batch', 1);
    const runs = int('runs', 1);
    const threads = int('threads', 1);
    const json = bool(p, 'json');
    const command = `ddcl bench throughput ${process.argv.slice(4).join(' ')}`.trim();
    const machine = {
      host: hostname(),
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      mem_gb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    };
    const say = (l: string) => {
      if (!json) process.stdout.write(l + '\n');
    };
    say(`$ ${command}`);
    say(`machine: ${machine.cpus} x ${machine.cpu}, ${machine.mem_gb} GiB, node ${machine.node}`);
    const registry = await t.benchRegistry();
    try {
      const ev = t.preparedEvents(events);
      if (!kafka) {
        const results = [];
        for (let r = 0; r < runs; r++) {
          const x = await t.inProcessRun(registry, ev, batch, threads);
          say(
            `run ${r + 1}: ${Math.round(x.events_per_s)} events/s, batch p50 ${x.p50_ms.toFixed(2)} ms, p99 ${x.p99_ms.toFixed(2)} ms`,
          );
          results.push(x);
        }
        const out = {
          mode: 'in-process',
          events_per_s: t.median(results.map((x) => x.events_per_s)),
          batch,
          p50_ms: t.median(results.map((x) => x.p50_ms)),
          p99_ms: t.median(results.map((x) => x.p99_ms)),
          latency: 'per micro-batch (processor.process)',
          rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
          events,
          runs: results,
          threads,
          command,
          machine,
        };
        if (json) printJson(out);
        else
          say(
            `median: ${Math.round(out.events_per_s)} events/s; batch of ${batch}: p50 ${out.p50_ms.toFixed(2)} ms, p99 ${out.p99_ms.toFixed(2)} ms; rss ${out.rss_mb} MB`,
          );
        return 0;
      }
      const o = {
        brokers: parseBrokers(kafka),
        client: str(p, 'client') as 'confluent' | 'kafkajs',
        registry,
        batch,
        lingerMs: num(p, 'linger-ms')!,
        maxInFlight: int('max-in-flight', 1),
        concurrency: int('concurrency', 1),
        partitions: int('partitions', 1),
        threads,
      };
      const rate = int('rate', 1);
      const latEvents = Math.round(rate * num(p, 'latency-seconds')!);
      const sayBacklog = (
        what: string,
        b: { seconds: number; events_per_s: number; cpu_us_per_event: number },
      ) =>
        say(
          `${what}: ${events} events in ${b.seconds.toFixed(2)} s = ${Math.round(b.events_per_s)} events/s, ${b.cpu_us_per_event.toFixed(1)} us CPU per event`,
        );
      const backlog = [];
      const pass = [];
      const latency = [];
      for (let r = 0; r < runs; r++) {
        const b = await t.kafkaBacklogRun(o, ev);
        sayBacklog(`backlog run ${r + 1}`, b);
        backlog.push(b);
        // Interleaved with the daemon's runs, so that both see the same machine.
        const q = await t.kafkaBacklogRun(o, ev, true);
        sayBacklog(`pass-through run ${r + 1} (no scoring)`, q);
        pass.push(q);
      }
      const latEv = t.preparedEvents(latEvents, 5);
      for (let r = 0; r < runs; r++) {
        const l = await t.kafkaLatencyRun(o, latEv, rate);
        say(
          `latency run ${r + 1}: ${l.events} events at ${Math.round(l.achieved_rate)} events/s: p50 ${l.p50_ms} ms, p99 ${l.p99_ms} ms, max ${l.max_ms} ms`,
        );
        latency.push(l);
      }
      const out = {
        mode: 'kafka',
        events_per_s: t.median(backlog.map((x) => x.events_per_s)),
        pass_through_events_per_s: t.median(pass.map((x) => x.events_per_s)),
        // CPU time of the bench process (all threads) per event over the backlog span: less
        // sensitive than events/s to what else the machine runs.
        cpu_us_per_event: t.median(backlog.map((x) => x.cpu_us_per_event)),
        pass_through_cpu_us_per_event: t.median(pass.map((x) => x.cpu_us_per_event)),
        batch,
        p50_ms: t.median(latency.map((x) => x.p50_ms)),
        p99_ms: t.median(latency.map((x) => x.p99_ms)),
        latency: `end to end (produce timestamp -> enriched ack) at ${rate} events/s`,
        rate,
        rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
        events,
        client: o.client,
        brokers: o.brokers,
        partitions: o.partitions,
        linger_ms: o.lingerMs,
        max_in_flight: o.maxInFlight,
        concurrency: o.concurrency,
        threads,
        backlog_runs: backlog,
        pass_through_runs: pass,
        latency_runs: latency,
        command,
        machine,
      };
      if (json) printJson(out);
      else
        say(
          `median: ${Math.round(out.events_per_s)} events/s through ${o.client} (pass-through without scoring: ${Math.round(out.pass_through_events_per_s)}, ratio ${(out.events_per_s / out.pass_through_events_per_s).toFixed(2)}); at ${rate} events/s end to end p50 ${out.p50_ms} ms, p99 ${out.p99_ms} ms; rss ${out.rss_mb} MB`,
        );
      return 0;
    } finally {
      t.removeRegistry(registry);
    }
  },
};
