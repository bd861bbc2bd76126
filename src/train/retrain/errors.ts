// Typed errors of the retraining loop. `retriable` says whether the same call may succeed later
// (a broker that timed out, a run that overlapped) or will fail the same way (a bad schedule).

export type RetrainProblem =
  | 'bad-schedule' // a cron expression node-cron refuses, or a negative event count
  | 'bad-window' // window bounds that are not positive
  | 'kafka-timeout' // reading a window from Kafka did not reach the end offsets in time
  | 'worker-failed' // the training worker threw or exited before answering
  | 'bad-job'; // a training job that cannot run (unknown codec format, empty window)

export class RetrainError extends Error {
  override readonly name = 'RetrainError';
  constructor(
    readonly problem: RetrainProblem,
    readonly detail: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(`retrain: ${problem}: ${detail}`, options);
  }
}
