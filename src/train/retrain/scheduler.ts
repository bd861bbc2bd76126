// When to retrain: a cron expression (node-cron), every N inlier events, or on demand. Runs never
// overlap: a trigger that arrives while a run is in progress is skipped and counted, not queued
// (the next trigger trains on a window that is newer anyway).
import cron, { type ScheduledTask } from 'node-cron';
import { RetrainError } from './errors.js';

export type TriggerReason = 'cron' | 'events' | 'manual';

export interface Trigger {
  reason: TriggerReason;
  at: Date;
}

export interface SchedulerOptions {
  /** node-cron expression (5 fields, or 6 with seconds); '' or undefined: no cron trigger. */
  cron?: string;
  timezone?: string;
  /** Trigger after this many observed events since the last run started (0 or undefined: off). */
  everyEvents?: number;
  run: (t: Trigger) => Promise<unknown>;
  /** A run that threw (the scheduler keeps going). */
  onError?: (e: unknown, t: Trigger) => void;
  /** A trigger skipped because a run was in progress. */
  onSkip?: (t: Trigger) => void;
}

export interface SchedulerStats {
  runs: number;
  failed: number;
  skipped: number;
  /** Events observed since the last run started. */
  eventsSinceRun: number;
}

export class RetrainScheduler {
  private task: ScheduledTask | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = true;
  readonly stats: SchedulerStats = { runs: 0, failed: 0, skipped: 0, eventsSinceRun: 0 };

  constructor(private readonly opts: SchedulerOptions) {
    if (opts.cron && !cron.validate(opts.cron)) {
      const detail = cron
        .validateDetailed(opts.cron)
        .errors.map((e) => `${e.field}: ${e.message}`)
        .join('; ');
      throw new RetrainError(
        'bad-schedule',
        `invalid cron expression ${JSON.stringify(opts.cron)}${detail ? `: ${detail}` : ''}`,
        false,
      );
    }
    const n = opts.everyEvents ?? 0;
    if (!Number.isInteger(n) || n < 0)
      throw new RetrainError('bad-schedule', `everyEvents must be an integer >= 0, got ${n}`, false);
  }

  get running(): boolean {
    return this.inFlight !== undefined;
  }

  /** Next cron run (null without a cron schedule or when stopped). */
  get nextRun(): Date | null {
    return this.task?.getNextRun() ?? null;
  }

  start(): void {
    this.stopped = false;
    if (this.opts.cron && !this.task) {
      this.task = cron.schedule(this.opts.cron, () => void this.fire('cron'), {
        ...(this.opts.timezone ? { timezone: this.opts.timezone } : {}),
        name: 'ddcl-retrain',
      });
    }
  }

  /** Stops the triggers; resolves when a run in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    const t = this.task;
    this.task = undefined;
    if (t) await t.destroy();
    await this.inFlight;
  }

  /** Count `count` new events (e.g. a batch's inliers); triggers once everyEvents are reached. */
  observe(count: number): void {
    const n = this.opts.everyEvents ?? 0;
    this.stats.eventsSinceRun += count;
    if (n > 0 && this.stats.eventsSinceRun >= n && !this.stopped) {
      // Reset here too: a threshold crossed during a run is one skipped trigger, not one per batch.
      if (this.running) this.stats.eventsSinceRun = 0;
      void this.fire('events');
    }
  }

  /**
   * Runs now unless a run is in progress. Resolves true when this trigger ran (whatever its
   * outcome: errors go to onError), false when it was skipped.
   */
  async trigger(reason: TriggerReason = 'manual'): Promise<boolean> {
    return this.fire(reason);
  }

  private async fire(reason: TriggerReason): Promise<boolean> {
    const t: Trigger = { reason, at: new Date() };
    if (this.inFlight) {
      this.stats.skipped++;
      this.opts.onSkip?.(t);
      return false;
    }
    this.stats.eventsSinceRun = 0;
    this.stats.runs++;
    const p = (async () => {
      try {
        await this.opts.run(t);
      } catch (e) {
        this.stats.failed++;
        this.opts.onError?.(e, t);
      }
    })();
    this.inFlight = p;
    try {
      await p;
    } finally {
      this.inFlight = undefined;
    }
    return true;
  }
}
