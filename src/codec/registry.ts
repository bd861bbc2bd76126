// Where writer schemas come from, by Confluent schema id: a real Schema Registry (through
// @kafkajs/confluent-schema-registry) or, registry-less, a local map of ids to schema files.
// Both sit behind SchemaSource so the codec cannot tell them apart.
import { readFileSync } from 'node:fs';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { DecodeError, SchemaError, SchemaRegistryError, messageOf } from './errors.js';
import { parseAvroSchema, schemaJson } from './avro.js';
import type { AvroSchemaInput } from './types.js';

export interface SchemaSource {
  /**
   * The writer schema (JSON) registered under `id`. Rejects with DecodeError 'unknown_schema_id'
   * when the source has no such id, SchemaRegistryError when the source cannot answer.
   */
  getSchema(id: number): Promise<object>;
  /** Synchronous lookup, for sources that never do I/O; undefined when `id` is unknown. */
  getSchemaSync?(id: number): object | undefined;
  /** Register `schema` under `subject`; resolves to its id (existing id if already there). */
  register(subject: string, schema: object): Promise<number>;
}

export function unknownSchemaId(id: number): DecodeError {
  return new DecodeError(
    'unknown_schema_id',
    '$schema_id',
    id,
    `schema id ${id} is not known to the schema source`,
  );
}

/** Registry-less mode: ids map to schemas held in memory or read from local .avsc files. */
export class LocalSchemaSource implements SchemaSource {
  private readonly byId = new Map<number, object>();
  private readonly subjects = new Map<string, number[]>();

  constructor(schemas: Map<number, AvroSchemaInput> | Record<number, AvroSchemaInput> = new Map()) {
    const entries =
      schemas instanceof Map
        ? [...schemas]
        : Object.entries(schemas).map(([k, v]) => [Number(k), v] as const);
    for (const [id, s] of entries) {
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff)
        throw new SchemaError(`schema id must be a 31-bit integer, got ${id}`);
      this.byId.set(id, schemaJson(parseAvroSchema(s)));
    }
  }

  /** `{ 1: 'schemas/payment.avsc', 2: 'schemas/payment.v2.avsc' }` (paths relative to cwd). */
  static fromFiles(files: Map<number, string> | Record<number, string>): LocalSchemaSource {
    const entries =
      files instanceof Map ? [...files] : Object.entries(files).map(([k, v]) => [Number(k), v] as const);
    const m = new Map<number, AvroSchemaInput>();
    for (const [id, file] of entries) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new SchemaError(`schema id ${id}: cannot read ${file}: ${messageOf(e)}`);
      }
      m.set(id, text);
    }
    return new LocalSchemaSource(m);
  }

  getSchemaSync(id: number): object | undefined {
    return this.byId.get(id);
  }

  async getSchema(id: number): Promise<object> {
    const s = this.byId.get(id);
    if (!s) throw unknownSchemaId(id);
    return s;
  }

  async register(subject: string, schema: object): Promise<number> {
    const fp = parseAvroSchema(schema).fingerprint('sha256').toString('hex');
    for (const [id, s] of this.byId) {
      if (parseAvroSchema(s).fingerprint('sha256').toString('hex') === fp) {
        this.addToSubject(subject, id);
        return id;
      }
    }
    const id = this.byId.size === 0 ? 1 : Math.max(...this.byId.keys()) + 1;
    this.byId.set(id, schemaJson(parseAvroSchema(schema)));
    this.addToSubject(subject, id);
    return id;
  }

  private addToSubject(subject: string, id: number): void {
    const ids = this.subjects.get(subject) ?? [];
    if (!ids.includes(id)) ids.push(id);
    this.subjects.set(subject, ids);
  }
}

export interface RegistrySourceOptions {
  /** Base URL of the Schema Registry, e.g. http://127.0.0.1:8081 */
  host: string;
  auth?: { username: string; password: string };
  /** Retries of failed HTTP calls (the library retries 5xx and network errors; default 3). */
  retries?: number;
  clientId?: string;
}

/** A real Confluent Schema Registry through @kafkajs/confluent-schema-registry. */
export class RegistrySchemaSource implements SchemaSource {
  readonly client: SchemaRegistry;

  constructor(opts: RegistrySourceOptions) {
    this.client = new SchemaRegistry({
      host: opts.host,
      auth: opts.auth,
      clientId: opts.clientId ?? 'ddcl',
      retry: opts.retries === undefined ? undefined : { retries: opts.retries },
    });
  }

  async getSchema(id: number): Promise<object> {
    let schema: unknown;
    try {
      schema = await this.client.getSchema(id);
    } catch (e) {
      throw registryFailure(e, id);
    }
    // The library hands back an avsc Type; its toJSON is the schema (attributes included).
    const json = (schema as { toJSON?: () => unknown }).toJSON?.();
    if (!json || typeof json !== 'object') throw new SchemaError(`schema id ${id} is not an Avro schema`);
    return json;
  }

  async register(subject: string, schema: object): Promise<number> {
    try {
      const { id } = await this.client.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject },
      );
      return id;
    } catch (e) {
      const status = statusOf(e);
      throw new SchemaRegistryError(`cannot register a schema under ${subject}: ${messageOf(e)}`, status, {
        cause: e,
      });
    }
  }
}

function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

function registryFailure(e: unknown, id: number): Error {
  const status = statusOf(e);
  // 404 (error_code 40403): the id does not exist; the record, not the registry, is at fault.
  if (status === 404) return unknownSchemaId(id);
  return new SchemaRegistryError(`schema registry lookup of id ${id} failed: ${messageOf(e)}`, status, {
    cause: e,
  });
}
