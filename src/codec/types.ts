// Public types of the codec layer.
import type { Type } from 'avsc';

/** A decoded event: an Avro record (avsc class instance) or a parsed JSON object. */
export type DecodedRecord = Record<string, unknown>;

/** A JSON Avro schema (the contents of an .avsc file), its text, or an avsc Type. */
export type AvroSchemaInput = object | string | Type;

/** Bytes <-> records. decode and encode throw DecodeError / EncodeError, never anything else. */
export interface Codec {
  readonly format: 'avro' | 'confluent' | 'json';
  decode(buf: Buffer): DecodedRecord;
  encode(rec: DecodedRecord): Buffer;
}
