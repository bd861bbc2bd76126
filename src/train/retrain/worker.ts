// Training off the scoring thread: each job runs in a fresh worker_threads worker (tfjs and its
// wasm memory go away with it), so the event loop that scores never waits for an epoch.
// The worker file sits next to this module: trainWorker.js once compiled (dist/), trainWorker.ts
// under tsx, where the worker inherits the parent's execArgv (`--import tsx`) to load it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ArtifactParts } from '../../registry/artifact.js';
import { RetrainError } from './errors.js';
import { transferables, type TrainJob, type TrainReply, type TrainSummary } from './job.js';

/** The worker entry next to this module: .js when compiled, .ts when running from source. */
export function trainWorkerUrl(): URL {
  const js = new URL('./trainWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return js;
  return new URL('./trainWorker.ts', import.meta.url);
}

export interface WorkerOptions {
  /** Kill the worker after this long (RetrainError 'worker-failed', retriable). Default: none. */
  timeoutMs?: number;
  /** Abort: terminates the worker. */
  signal?: AbortSignal;
  /** Node flags of the worker; default the parent's (so `--import tsx` propagates). */
  execArgv?: string[];
  resourceLimits?: { maxOldGenerationSizeMb?: number };
}

/**
 * Runs one job in a worker. The job's packed window is transferred (the caller must not use it
 * afterwards); the parent weights are copied (they belong to the serving model); the parts come
 * back transferred.
 */
/**
 * The parent's flags a worker accepts and needs: module loading (`--import tsx`, `--require`,
 * `--loader`, `--conditions`, `--experimental-*`) and warnings/source maps. Per-process flags (e.g.
 * `--v8-pool-size`, `--tls-cipher-list`, which Node 24's test runner passes) make `new Worker` throw.
 */
export function workerExecArgv(argv: readonly string[]): string[] {
  const keep =
    /^(--import|--require|-r|--loader|--experimental-loader|--conditions|-C|--experimental-[a-z-]+|--enable-source-maps|--no-warnings|--no-deprecation)(=|$)/;
  const takesValue = /^(--import|--require|-r|--loader|--experimental-loader|--conditions|-C)$/;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!keep.test(a)) continue;
    out.push(a);
    if (takesValue.test(a) && i + 1 < argv.length) out.push(argv[++i]!);
  }
  return out;
}

export function trainInWorker(
  job: TrainJob,
  opts: WorkerOptions = {},
): Promise<{ parts: ArtifactParts; summary: TrainSummary }> {
  return new Promise((resolve, reject) => {
    const url = trainWorkerUrl();
    const workerOpts = {
      execArgv: opts.execArgv ?? workerExecArgv(process.execArgv),
      ...(opts.resourceLimits ? { resourceLimits: opts.resourceLimits } : {}),
    };
    // From source: a worker's entry is loaded before `--import tsx` hooks apply in it (Node 20),
    // so a small bootstrap registers tsx's ESM hooks first, then imports the .ts entry.
    const worker = url.pathname.endsWith('.ts')
      ? new Worker(
          `(async () => { const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}); register(); await import(${JSON.stringify(url.href)}); })().catch((e) => { throw e; });`,
          { ...workerOpts, eval: true },
        )
      : new Worker(url, workerOpts);
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      f();
      void worker.terminate();
    };
    const onAbort = (): void =>
      finish(() =>
        reject(new RetrainError('worker-failed', 'training aborted', true, { cause: opts.signal?.reason })),
      );
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs)
      timer = setTimeout(
        () =>
          finish(() =>
            reject(new RetrainError('worker-failed', `training took longer than ${opts.timeoutMs} ms`, true)),
          ),
        opts.timeoutMs,
      );
    worker.once('message', (reply: TrainReply) => {
      if (reply.ok) finish(() => resolve({ parts: reply.parts, summary: reply.summary }));
      else {
        const cause = Object.assign(new Error(reply.error.message), {
          name: reply.error.name,
          stack: reply.error.stack,
        });
        finish(() =>
          reject(
            new RetrainError('worker-failed', `${reply.error.name}: ${reply.error.message}`, false, {
              cause,
            }),
          ),
        );
      }
    });
    worker.once('error', (e) =>
      finish(() =>
        reject(
          new RetrainError('worker-failed', `worker ${fileURLToPath(url)} crashed: ${e.message}`, false, {
            cause: e,
          }),
        ),
      ),
    );
    worker.once('exit', (code) =>
      finish(() =>
        reject(
          new RetrainError(
            'worker-failed',
            `worker ${fileURLToPath(url)} exited with code ${code} before answering`,
            false,
          ),
        ),
      ),
    );
    const big = transferables(job.samples.bytes, job.samples.offsets, job.samples.timestamps);
    try {
      worker.postMessage(job, big);
    } catch {
      worker.postMessage(job);
    }
  });
}
