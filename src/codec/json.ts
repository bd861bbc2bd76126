// JSON events: one JSON object per message. With an Avro schema, records are checked against it
// (absent fields that have defaults get them), so JSON and Avro inputs reach the featurizer in
// the same shape.
import type { Type } from 'avsc';
import { DecodeError, EncodeError, SchemaError, messageOf } from './errors.js';
import { invalidValueError, parseAvroSchema } from './avro.js';
import type { AvroSchemaInput, Codec, DecodedRecord } from './types.js';

export interface JsonCodecOptions {
  /** Validate (and complete defaults of) records against this Avro record schema. */
  schema?: AvroSchemaInput;
  /** Messages longer than this are refused before parsing (default 8 MiB). */
  maxBytes?: number;
}

export class JsonCodec implements Codec {
  readonly format = 'json' as const;
  readonly type: Type | undefined;
  private readonly defaults: { name: string; value: unknown; immutable: boolean }[] = [];
  private readonly maxBytes: number;

  constructor(opts: JsonCodecOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
    if (opts.schema !== undefined) {
      this.type = parseAvroSchema(opts.schema);
      const fields = (this.type as unknown as { fields?: { name: string; defaultValue(): unknown }[] })
        .fields;
      if (!fields) throw new SchemaError(`JSON schema must be an Avro record, got ${this.type.typeName}`);
      for (const f of fields) {
        const value = f.defaultValue();
        if (value !== undefined)
          this.defaults.push({ name: f.name, value, immutable: value === null || typeof value !== 'object' });
      }
    }
  }

  decode(buf: Buffer): DecodedRecord {
    if (buf.length > this.maxBytes)
      throw new DecodeError(
        'too_large',
        '$',
        buf,
        `${buf.length} bytes, more than the ${this.maxBytes} allowed`,
      );
    let rec: unknown;
    try {
      rec = JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw new DecodeError('json_syntax', '$', buf, messageOf(e));
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      throw new DecodeError('type', '$', rec, 'a JSON event must be an object');
    }
    const obj = rec as DecodedRecord;
    if (this.type) {
      for (const d of this.defaults) {
        if (obj[d.name] === undefined) obj[d.name] = d.immutable ? d.value : structuredClone(d.value);
      }
      if (!this.type.isValid(obj))
        throw invalidValueError(this.type, obj, 'does not match the schema', DecodeError);
    }
    return obj;
  }

  encode(rec: DecodedRecord): Buffer {
    if (this.type && !this.type.isValid(rec))
      throw invalidValueError(this.type, rec, 'does not match the schema', EncodeError);
    try {
      return Buffer.from(JSON.stringify(rec), 'utf8');
    } catch (e) {
      throw new EncodeError('json', '$', rec, messageOf(e));
    }
  }
}
