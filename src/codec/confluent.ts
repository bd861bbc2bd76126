// The Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body. The writer
// schema named by the id is fetched once, resolved into the reader schema and cached.
import type { Resolver, Type } from 'avsc';
import { DecodeError, SchemaError, messageOf } from './errors.js';
import { decodeAvroBody, encodeAvro, makeResolver, parseAvroSchema, schemaJson } from './avro.js';
import { unknownSchemaId, type SchemaSource } from './registry.js';
import type { AvroSchemaInput, Codec, DecodedRecord } from './types.js';

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

/** Prefix an Avro body with the 5-byte Confluent header. */
export function frameConfluent(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  out[0] = MAGIC_BYTE;
  out.writeInt32BE(schemaId, 1);
  body.copy(out, HEADER_SIZE);
  return out;
}

/** The schema id of a framed message. Throws DecodeError for a short buffer or a wrong magic byte. */
export function readSchemaId(buf: Buffer): number {
  if (buf.length < HEADER_SIZE) {
    throw new DecodeError(
      'truncated',
      '$header',
      buf,
      `${buf.length} bytes, shorter than the ${HEADER_SIZE}-byte Confluent header`,
    );
  }
  if (buf[0] !== MAGIC_BYTE) {
    throw new DecodeError(
      'bad_magic',
      '$header',
      buf.subarray(0, HEADER_SIZE),
      `magic byte is ${buf[0]}, expected ${MAGIC_BYTE}`,
    );
  }
  return buf.readInt32BE(1);
}

/**
 * The codec met a schema id it has not loaded yet from an asynchronous source. Not a record
 * error: call `await codec.load(err.schemaId)` (or use decodeAsync) and decode again.
 */
export class SchemaNotLoadedError extends Error {
  override readonly name = 'SchemaNotLoadedError';
  readonly retriable = true;
  constructor(readonly schemaId: number) {
    super(`writer schema id ${schemaId} is not loaded yet`);
  }
}

interface WriterEntry {
  writer: Type;
  resolver: Resolver | undefined;
}

export interface ConfluentCodecOptions {
  /** A registry (RegistrySchemaSource) or the registry-less LocalSchemaSource. */
  source: SchemaSource;
  /** The schema this process reads records as (and writes them with). */
  readerSchema: AvroSchemaInput;
  /** The id encode() frames records with: the reader schema's registered id. */
  writerId?: number;
  /** How long an unknown id is remembered as unknown, so bad records do not flood the registry. */
  negativeCacheMs?: number;
}

export class ConfluentCodec implements Codec {
  readonly format = 'confluent' as const;
  readonly readerType: Type;
  writerId: number | undefined;
  private readonly source: SchemaSource;
  private readonly writers = new Map<number, WriterEntry>();
  /** Ids that failed: unknown or unreadable as the reader schema, with when to forget them. */
  private readonly failed = new Map<number, { error: DecodeError; until: number }>();
  private readonly negativeCacheMs: number;

  constructor(opts: ConfluentCodecOptions) {
    this.source = opts.source;
    this.readerType = parseAvroSchema(opts.readerSchema);
    if (this.readerType.typeName !== 'record')
      throw new SchemaError(`reader schema must be a record, got ${this.readerType.typeName}`);
    this.writerId = opts.writerId;
    this.negativeCacheMs = opts.negativeCacheMs ?? 60_000;
  }

  /** Register the reader schema under `subject` and use its id for encode(). */
  static async create(opts: ConfluentCodecOptions & { subject?: string }): Promise<ConfluentCodec> {
    const codec = new ConfluentCodec(opts);
    if (opts.subject !== undefined && codec.writerId === undefined) {
      codec.writerId = await opts.source.register(opts.subject, schemaJson(codec.readerType));
    }
    return codec;
  }

  /** Synchronous decode. Throws DecodeError, or SchemaNotLoadedError for an async source's new id. */
  decode(buf: Buffer): DecodedRecord {
    const id = readSchemaId(buf);
    let w = this.writers.get(id);
    if (w === undefined) w = this.loadSync(id);
    return decodeAvroBody(this.readerType, w.writer, w.resolver, buf, HEADER_SIZE);
  }

  /** Decode, fetching the writer schema first when it is not cached. */
  async decodeAsync(buf: Buffer): Promise<DecodedRecord> {
    const id = readSchemaId(buf);
    if (!this.writers.has(id)) await this.load(id);
    return this.decode(buf);
  }

  /** Fetch and cache the writer schema `id`. Rejects with DecodeError or SchemaRegistryError. */
  async load(id: number): Promise<void> {
    if (this.writers.has(id)) return;
    this.throwIfFailed(id);
    let json: object;
    try {
      json = await this.source.getSchema(id);
    } catch (e) {
      if (e instanceof DecodeError) this.remember(id, e);
      throw e;
    }
    this.install(id, json);
  }

  encode(rec: DecodedRecord): Buffer {
    if (this.writerId === undefined)
      throw new SchemaError('ConfluentCodec.encode needs writerId (or create it with a subject)');
    const header = Buffer.allocUnsafe(HEADER_SIZE);
    header[0] = MAGIC_BYTE;
    header.writeInt32BE(this.writerId, 1);
    return encodeAvro(this.readerType, rec, header);
  }

  /** Ids whose writer schemas are cached. */
  get loadedIds(): number[] {
    return [...this.writers.keys()];
  }

  private loadSync(id: number): WriterEntry {
    this.throwIfFailed(id);
    if (!this.source.getSchemaSync) throw new SchemaNotLoadedError(id);
    const json = this.source.getSchemaSync(id);
    if (!json) {
      const err = unknownSchemaId(id);
      this.remember(id, err);
      throw err;
    }
    return this.install(id, json);
  }

  private install(id: number, json: object): WriterEntry {
    let entry: WriterEntry;
    try {
      const writer = parseAvroSchema(json);
      entry = { writer, resolver: makeResolver(this.readerType, writer) };
    } catch (e) {
      // A writer schema that cannot be read as ours makes every record with this id bad.
      const err = new DecodeError('incompatible_schema', '$schema_id', id, messageOf(e));
      this.remember(id, err);
      throw err;
    }
    this.writers.set(id, entry);
    return entry;
  }

  private remember(id: number, error: DecodeError): void {
    this.failed.set(id, { error, until: Date.now() + this.negativeCacheMs });
  }

  private throwIfFailed(id: number): void {
    const f = this.failed.get(id);
    if (!f) return;
    if (Date.now() < f.until) throw f.error;
    this.failed.delete(id);
  }
}
