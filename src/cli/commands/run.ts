import { str, UserError, type Parsed } from '../args.js';
import type { Command } from '../main.js';

export const run: Command = {
  spec: {
    name: 'run',
    summary: 'Run the daemon: consume from Kafka, score, publish enriched events, alerts and dead letters.',
    description:
      'FILE is YAML (see deploy/ddcl.example.yaml); DDCL_<SECTION>__<KEY> environment variables override it\n' +
      '(e.g. DDCL_KAFKA__BROKERS=k1:9092,k2:9092). The config is validated at start: an invalid one exits\n' +
      'with the key and the problem. SIGTERM/SIGINT finish the in-flight batch, commit and close.',
    options: {
      config: { kind: 'string', help: 'YAML config file', required: true, placeholder: 'FILE' },
      'check-config': { kind: 'boolean', help: 'validate the config, print it (secrets redacted) and exit' },
    },
    examples: [
      'ddcl run --config deploy/ddcl.example.yaml',
      'DDCL_KAFKA__BROKERS=127.0.0.1:19092 ddcl run --config ddcl.yaml',
    ],
  },
  async run(p: Parsed): Promise<number> {
    const { loadConfig, ConfigError } = await import('../../config/config.js');
    let cfg;
    try {
      cfg = loadConfig(str(p, 'config')!);
    } catch (e) {
      if (e instanceof ConfigError) throw new UserError(`invalid config: ${e.message}`);
      throw e;
    }
    if (p.opts['check-config']) {
      const { redact } = await import('../../obs/logger.js');
      process.stdout.write(JSON.stringify(redact(cfg), null, 2) + '\n');
      return 0;
    }
    if (cfg.input.topics.length === 0)
      throw new UserError('invalid config: input.topics: must name at least one topic');
    const { Daemon } = await import('../../daemon/daemon.js');
    const { bootstrapFromTopics } = await import('../../daemon/bootstrap.js');
    const { inlierWindow, startRetraining } = await import('../../daemon/retraining.js');
    // Inliers feed the training window from the first batch on; the side loop starts once the
    // daemon runs (it needs the Kafka client and the registry).
    const window = inlierWindow(cfg);
    let retraining: Awaited<ReturnType<typeof startRetraining>> | undefined;
    const daemon = new Daemon(cfg, {
      bootstrap: (d) => bootstrapFromTopics(d),
      onInliers: (samples) => (retraining ? retraining.observe(samples) : window.add(samples)),
    });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        daemon.log.warn('second signal: exiting now', { signal });
        process.exit(130);
      }
      stopping = true;
      daemon.log.info('stopping', { signal });
      void (async () => {
        await retraining?.stop();
        await daemon.stop();
        process.exit(0);
      })();
      // Bounded: never hang past the configured timeout plus a margin.
      setTimeout(() => process.exit(1), cfg.shutdown.timeoutMs + 2000).unref();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    await daemon.start();
    retraining = await startRetraining(daemon, window);
    await new Promise<never>(() => undefined);
    return 0;
  },
};
