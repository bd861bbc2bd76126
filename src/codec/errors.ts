// Typed errors for records that cannot be read or turned into features. They carry data, not
// prose, so the daemon can route the record to the dead-letter topic with headers and branch on
// `retriable` instead of parsing messages (the KafkaJS habit).

/** Longest rendering of an offending value kept in an error (DLQ headers stay small). */
export const MAX_VALUE_CHARS = 64;

/** The DLQ-header view of a record error. */
export interface RecordErrorInfo {
  name: string;
  code: string;
  path: string;
  value: string;
  reason: string;
  retriable: boolean;
}

/** A record (not the system) is bad: retrying will not help, the record goes to the DLQ. */
export abstract class RecordError extends Error {
  /** Where in the record: a dotted field path, '$' for the record as a whole. */
  readonly path: string;
  /** The offending value, shortened to at most MAX_VALUE_CHARS characters. */
  readonly value: string;
  readonly reason: string;
  /** Machine-readable cause, e.g. 'truncated', 'unknown_schema_id', 'type', 'missing'. */
  readonly code: string;
  readonly retriable: boolean = false;

  constructor(code: string, path: string, value: unknown, reason: string) {
    const shown = shortenValue(value);
    super(`${path}: ${reason} (value ${shown})`);
    this.code = code;
    this.path = path;
    this.value = shown;
    this.reason = reason;
  }

  toJSON(): RecordErrorInfo {
    return {
      name: this.name,
      code: this.code,
      path: this.path,
      value: this.value,
      reason: this.reason,
      retriable: this.retriable,
    };
  }
}

/** Bytes that cannot be decoded into a record of the expected schema. */
export class DecodeError extends RecordError {
  override readonly name = 'DecodeError';
}

/** A record that cannot be encoded with the given schema. */
export class EncodeError extends RecordError {
  override readonly name = 'EncodeError';
}

/**
 * The Schema Registry could not be reached or answered an error other than "not found". Not a
 * record error: the record is probably fine, so the caller retries instead of dead-lettering.
 */
export class SchemaRegistryError extends Error {
  override readonly name = 'SchemaRegistryError';
  readonly retriable = true;
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A schema file or definition that avsc refuses (a configuration error, not a record error). */
export class SchemaError extends Error {
  override readonly name = 'SchemaError';
}

/**
 * Render any value in at most `max` characters without ever serialising a large object or string
 * in full (a 1 MB string must not cost 1 MB again in an error).
 */
export function shortenValue(value: unknown, max = MAX_VALUE_CHARS): string {
  let s: string;
  if (value === undefined) s = 'undefined';
  else if (value === null) s = 'null';
  else if (typeof value === 'string') {
    const quoted = JSON.stringify(value.length > max ? value.slice(0, max) : value);
    if (value.length <= max && quoted.length <= max) return quoted;
    const suffix = `…(${value.length} chars)`;
    return quoted.slice(0, Math.max(1, max - suffix.length)) + suffix;
  } else if (typeof value === 'number' || typeof value === 'boolean') s = String(value);
  else if (typeof value === 'bigint') s = `${value}n`;
  else if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    const b = value as Uint8Array;
    const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 24)).toString('hex');
    s = `<${b.length} bytes ${head}${b.length > 24 ? '…' : ''}>`;
  } else if (value instanceof Date) s = Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  else if (Array.isArray(value)) s = `[array of ${value.length}]`;
  else if (typeof value === 'object') {
    const keys: string[] = [];
    for (const k in value as object) {
      keys.push(k);
      if (keys.length > 8) break;
    }
    s = `{${keys.join(',')}}`;
  } else s = typeof value;
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

/** The message of anything thrown (libraries throw Errors, strings, or worse). */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return shortenValue(e, 200);
}
