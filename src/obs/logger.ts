// Structured JSON logs (winston) on stderr, so stdout stays free for `--json` results and alerts.
// Never log per event on the hot path: log per batch, per model, per decision.
import winston from 'winston';

export type Logger = winston.Logger;

const SECRET_KEY = /(pass(word)?|secret|token|credential|private[_-]?key|sasl|ssl[_.-]?key)/i;

/** Replaces the value of any secret-looking key, at any depth, with "[redacted]". */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] =
      SECRET_KEY.test(k) && v !== undefined && typeof v !== 'object' ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  for (const k of Object.keys(info)) {
    const v = (info as Record<string, unknown>)[k];
    (info as Record<string, unknown>)[k] =
      SECRET_KEY.test(k) && v !== undefined && typeof v !== 'object' ? '[redacted]' : redact(v);
  }
  return info;
});

export interface LoggerOptions {
  level?: string;
  /** 'json' (default) or 'pretty' for humans at a terminal. */
  format?: 'json' | 'pretty';
  /** Defaults to stderr. */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const format =
    opts.format === 'pretty'
      ? winston.format.combine(
          redactFormat(),
          winston.format.timestamp(),
          winston.format.printf(({ timestamp, level, message, ...rest }) => {
            const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
            return `${String(timestamp)} ${level} ${String(message)}${extra}`;
          }),
        )
      : winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json());
  return winston.createLogger({
    level: opts.level ?? process.env.DDCL_LOG_LEVEL ?? 'info',
    silent: opts.silent ?? false,
    format,
    transports: [new winston.transports.Stream({ stream: opts.stream ?? process.stderr })],
  });
}
