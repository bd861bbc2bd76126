// `ddcl bench clustering`: the clustering benchmark of DESIGN.md, on digits, the MNIST test set or
// a user's labelled data (idx folder, npz with X and y, CSV whose last column is the label).
import { join } from 'node:path';
import { bool, list, num, printJson, str, UserError, type Parsed } from '../args.js';
import type { Command } from '../main.js';

export const benchClustering: Command = {
  spec: {
    name: 'bench clustering',
    summary:
      'Clustering benchmark: DDCL, its ablations, DeepCluster and k-means; ACC (Hungarian), NMI, ARI over seeds.',
    usage: 'bench clustering --dataset digits|mnist-test|PATH [options]',
    description:
      'PATH: a folder holding an idx images file and its labels file, an npz with X and y, or a CSV\n' +
      'whose last column is the label. Labels are used for scoring only. Methods: ddcl, ddcl-ols\n' +
      '(L_OLS only), ddcl-stopgrad (q and P detached), deepcluster, kmeans-raw, kmeans-embed.\n' +
      '--protocol paper: the DDCL paper setup (backbone trained jointly from scratch, dual-linear,\n' +
      'T 2 -> 0.5). --protocol best (default): a manifold embedding (k-NN graph, Laplacian\n' +
      'eigenmap, UMAP layout) and a dual-attention DCL trained on L_q over it (see README\n' +
      '"Clustering benchmark").\n' +
      'Writes report.md, curves.svg (L_q, L_OLS, V per epoch) and result.json to --out.',
    options: {
      dataset: {
        kind: 'string',
        help: 'digits, mnist-test, or a PATH',
        required: true,
        placeholder: 'NAME|PATH',
      },
      seeds: { kind: 'number', help: 'number of seeds (0, 1, ... N-1)', default: 5 },
      'first-seed': { kind: 'number', help: 'first seed', default: 0 },
      protocol: { kind: 'string', help: 'configuration', choices: ['best', 'paper'], default: 'best' },
      methods: {
        kind: 'list',
        help: 'methods to run, comma separated (default: all six)',
        placeholder: 'M1,M2',
      },
      k: { kind: 'number', help: 'number of clusters K', default: 10 },
      out: {
        kind: 'string',
        help: 'report folder (default out/bench-clustering/<dataset>[-paper])',
        placeholder: 'DIR',
      },
      engine: {
        kind: 'string',
        help: 'tfjs backend',
        choices: ['auto', 'tensorflow', 'wasm', 'cpu'],
        default: 'auto',
      },
      quiet: { kind: 'boolean', help: 'no per-run progress on stderr' },
      json: { kind: 'boolean', help: 'print the result as one JSON line' },
    },
    examples: [
      'ddcl bench clustering --dataset digits --json',
      'ddcl bench clustering --dataset digits --protocol paper --seeds 5',
      'ddcl bench clustering --dataset ../shared/data/mnist --methods ddcl,kmeans-raw --seeds 3',
    ],
  },
  async run(p: Parsed): Promise<number> {
    const { loadDataset } = await import('../../data/index.js');
    const { runClusteringBench, writeReport, benchJson, METHODS } =
      await import('../../eval/clustering/index.js');
    type MethodName = (typeof METHODS)[number];
    const dataset = str(p, 'dataset')!;
    const seeds = num(p, 'seeds')!;
    const firstSeed = num(p, 'first-seed')!;
    const K = num(p, 'k')!;
    for (const [name, v, min] of [
      ['seeds', seeds, 1],
      ['first-seed', firstSeed, 0],
      ['k', K, 2],
    ] as const) {
      if (!Number.isInteger(v) || v < min)
        throw new UserError(`--${name} must be a whole number >= ${min}, got ${v}`);
    }
    const methods = list(p, 'methods');
    for (const m of methods) {
      if (!(METHODS as readonly string[]).includes(m))
        throw new UserError(`--methods: unknown method "${m}" (one of ${METHODS.join(', ')})`);
    }
    const protocol = str(p, 'protocol') as 'best' | 'paper';
    const ds = await loadDataset(dataset);
    const classes = new Set(ds.y).size;
    if (ds.n < 2 * K) throw new UserError(`${dataset}: ${ds.n} rows are too few for K = ${K}`);
    const quiet = bool(p, 'quiet');
    if (!quiet)
      process.stderr.write(
        `bench clustering: ${dataset} n=${ds.n} d=${ds.d} classes=${classes} K=${K} protocol=${protocol} seeds=${seeds}\n`,
      );
    const res = await runClusteringBench(ds.name, ds.X, ds.n, ds.d, ds.y, {
      protocol,
      seeds,
      firstSeed,
      K,
      engine: str(p, 'engine') as 'auto',
      ...(methods.length ? { methods: methods as MethodName[] } : {}),
      onRun: quiet
        ? undefined
        : (r) =>
            process.stderr.write(
              `  seed ${r.seed} ${r.method.padEnd(14)} acc ${r.acc.toFixed(3)} nmi ${r.nmi.toFixed(3)} ari ${r.ari.toFixed(3)} ${r.seconds.toFixed(1)} s\n`,
            ),
    });
    const base = /^[A-Za-z0-9._-]+$/.test(dataset)
      ? dataset
      : (dataset.split(/[\\/]/).filter(Boolean).pop() ?? 'data').replace(/[^A-Za-z0-9._-]/g, '_');
    const dir =
      str(p, 'out') ?? join('out', 'bench-clustering', protocol === 'paper' ? `${base}-paper` : base);
    const command = ['ddcl', 'bench', 'clustering', ...process.argv.slice(4)].join(' ');
    const files = writeReport(res, dir, command);
    if (bool(p, 'json')) printJson({ ...benchJson(res), report: files.report, figure: files.figure });
    else {
      const lines = [
        `${res.dataset} (n=${res.n}, K=${res.k}, protocol ${res.protocol}, ${res.seeds} seeds, ${res.backend}, ${res.seconds.toFixed(1)} s)`,
      ];
      lines.push(`${'method'.padEnd(15)} ${'ACC'.padEnd(15)} ${'NMI'.padEnd(7)} ${'ARI'.padEnd(7)} seconds`);
      for (const m of res.results)
        lines.push(
          `${m.method.padEnd(15)} ${`${m.acc_mean.toFixed(3)} ± ${m.acc_std.toFixed(3)}`.padEnd(15)} ${m.nmi_mean.toFixed(3).padEnd(7)} ${m.ari_mean.toFixed(3).padEnd(7)} ${m.seconds.toFixed(1)}`,
        );
      if (res.diagnostics)
        lines.push(
          `max |L_q - L_OLS - V| ${res.diagnostics.maxViolation.toExponential(2)}; Pearson(separation, force) ${res.diagnostics.separationForcePearson.toFixed(3)}`,
        );
      lines.push(`report: ${files.report}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    return 0;
  },
};
