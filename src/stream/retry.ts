// Retrying what the stream layer reports as retriable (KafkaError.retriable), with capped
// exponential back-off. Anything else is thrown at once.
import { isKafkaError } from './errors.js';

export interface RetryOptions {
  /** Attempts after the first. Default 8. */
  retries?: number;
  /** Default 100 ms, doubled per attempt up to maxDelayMs. */
  initialDelayMs?: number;
  /** Default 3000 ms. */
  maxDelayMs?: number;
  /** Which errors to retry; default: KafkaErrors marked retriable. */
  isRetriable?: (e: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 8;
  const max = options.maxDelayMs ?? 3000;
  const retriable = options.isRetriable ?? ((e: unknown) => isKafkaError(e) && e.retriable);
  let delay = options.initialDelayMs ?? 100;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= retries || !retriable(e) || options.signal?.aborted) throw e;
      options.onRetry?.(e, attempt + 1, delay);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(max, delay * 2);
    }
  }
}
