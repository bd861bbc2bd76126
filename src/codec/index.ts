// The codec layer: bytes in Kafka <-> records.
export type { AvroSchemaInput, Codec, DecodedRecord } from './types.js';
export {
  RecordError,
  DecodeError,
  EncodeError,
  SchemaError,
  SchemaRegistryError,
  shortenValue,
  MAX_VALUE_CHARS,
  type RecordErrorInfo,
} from './errors.js';
export { AvroCodec, parseAvroSchema, schemaJson, schemaFingerprint, encodeAvro } from './avro.js';
export {
  ConfluentCodec,
  SchemaNotLoadedError,
  frameConfluent,
  readSchemaId,
  MAGIC_BYTE,
  HEADER_SIZE,
  type ConfluentCodecOptions,
} from './confluent.js';
export {
  LocalSchemaSource,
  RegistrySchemaSource,
  type SchemaSource,
  type RegistrySourceOptions,
} from './registry.js';
export { JsonCodec, type JsonCodecOptions } from './json.js';
export {
  loadSchema,
  loadSchemaJson,
  schemaPath,
  packageRoot,
  SCHEMA_NAMES,
  INPUT_SCHEMAS,
  type SchemaName,
} from './schemas.js';
