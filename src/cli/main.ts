// The only face of ddcl. Commands are loaded lazily so that `ddcl --help` and light commands do
// not pay for tfjs or ONNX Runtime start-up.
import { formatHelp, parseCommand, UsageError, UserError, type CommandSpec, type Parsed } from './args.js';

export interface Command {
  spec: CommandSpec;
  run(p: Parsed): Promise<number>;
}

type Loader = () => Promise<Command>;

/** Top-level commands; a group (bench, eval, models) has sub-commands. */
const COMMANDS: Record<
  string,
  { summary: string; load?: Loader; sub?: Record<string, { summary: string; load: Loader }> }
> = {
  demo: {
    summary: 'run the embedded default: generated events with anomalies through the whole pipeline',
    load: async () => (await import('./commands/demo.js')).demo,
  },
  run: {
    summary: 'run the daemon: consume from Kafka, score, enrich, alert (--config FILE)',
    load: async () => (await import('./commands/run.js')).run,
  },
  train: {
    summary: 'train a model on a file (CSV, JSONL, Avro, npz, idx)',
    load: async () => (await import('./commands/train.js')).train,
  },
  score: {
    summary: 'score a file with a trained model',
    load: async () => (await import('./commands/score.js')).score,
  },
  eval: {
    summary: 'detection quality on labelled benchmarks',
    sub: {
      nab: {
        summary: 'NAB with the streaming protocol (optimised and label-free thresholds)',
        load: async () => (await import('./commands/evalNab.js')).evalNab,
      },
      tabular: {
        summary: 'unsupervised ROC-AUC and PR-AUC on a labelled table (ADBench npz)',
        load: async () => (await import('./commands/evalTabular.js')).evalTabular,
      },
    },
  },
  bench: {
    summary: 'benchmarks',
    sub: {
      clustering: {
        summary: 'clustering benchmark: DDCL, ablations, DeepCluster, k-means (ACC/NMI/ARI over seeds)',
        load: async () => (await import('./commands/benchClustering.js')).benchClustering,
      },
      throughput: {
        summary: 'events/s and latency of the scoring path, in process or through Kafka (--kafka)',
        load: async () => (await import('./commands/benchThroughput.js')).benchThroughput,
      },
    },
  },
  models: {
    summary: 'the model registry',
    sub: {
      list: {
        summary: 'list the versions of a model',
        load: async () => (await import('./commands/models.js')).modelsList,
      },
      show: {
        summary: 'show one version (manifest)',
        load: async () => (await import('./commands/models.js')).modelsShow,
      },
      promote: {
        summary: 'make a version current',
        load: async () => (await import('./commands/models.js')).modelsPromote,
      },
      rollback: {
        summary: 'move current back to the previous version',
        load: async () => (await import('./commands/models.js')).modelsRollback,
      },
    },
  },
};

function topHelp(): string {
  const lines = [
    'Usage: ddcl <command> [options]',
    '',
    'Streaming anomaly detection with Deep Dual Competitive Learning.',
    '',
    'Commands:',
  ];
  for (const [name, c] of Object.entries(COMMANDS)) {
    if (c.sub)
      for (const [s, sc] of Object.entries(c.sub)) lines.push(`  ${`${name} ${s}`.padEnd(20)} ${sc.summary}`);
    else lines.push(`  ${name.padEnd(20)} ${c.summary}`);
  }
  lines.push('', 'Every command takes --help; --json makes the last line of stdout one JSON object.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`ddcl: unknown command "${name}". Run "ddcl --help" for the list.\n`);
    return 2;
  }
  let load = entry.load;
  let args = rest;
  if (entry.sub) {
    const [subName, ...subRest] = rest;
    if (!subName || subName === '--help' || subName === '-h') {
      const lines = [
        `Usage: ddcl ${name} <${Object.keys(entry.sub).join('|')}> [options]`,
        '',
        entry.summary,
        '',
      ];
      for (const [s, sc] of Object.entries(entry.sub)) lines.push(`  ${s.padEnd(14)} ${sc.summary}`);
      process.stdout.write(lines.join('\n') + '\n');
      return subName ? 0 : 2;
    }
    const sub = entry.sub[subName];
    if (!sub) {
      process.stderr.write(
        `ddcl ${name}: unknown sub-command "${subName}" (one of: ${Object.keys(entry.sub).join(', ')})\n`,
      );
      return 2;
    }
    load = sub.load;
    args = subRest;
  }
  const cmd = await load!();
  try {
    const parsed = parseCommand(cmd.spec, args);
    if (parsed.help) {
      process.stdout.write(formatHelp(cmd.spec));
      return 0;
    }
    return await cmd.run(parsed);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`ddcl ${err.message}\nRun "ddcl ${cmd.spec.name} --help" for usage.\n`);
      return 2;
    }
    if (err instanceof UserError) {
      process.stderr.write(`ddcl ${cmd.spec.name}: ${err.message}\n`);
      return err.exitCode;
    }
    // Typed errors from the product (data, artifact, config, feature) carry a useful message; print
    // it as one line and keep the stack for DDCL_DEBUG=1.
    const e = err as Error;
    process.stderr.write(
      `ddcl ${cmd.spec.name}: ${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e?.message ?? String(err)}\n`,
    );
    if (process.env.DDCL_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    return 1;
  }
}
