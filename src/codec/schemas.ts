// The Avro schemas shipped in schemas/, found relative to the package root so this works from
// src/ (tsx) and from the compiled dist/src/ alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Type } from 'avsc';
import { SchemaError } from './errors.js';
import { parseAvroSchema } from './avro.js';

export const SCHEMA_NAMES = [
  'payment',
  'host_metric',
  'http_access',
  'alert',
  'enriched',
  'model_announcement',
] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];
/** Example input events (the rest are ddcl's outputs). */
export const INPUT_SCHEMAS: readonly SchemaName[] = ['payment', 'host_metric', 'http_access'];

let root: string | undefined;

/** The folder holding package.json and schemas/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir)
      throw new SchemaError(`no package root with schemas/ above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export function schemaPath(name: SchemaName): string {
  return join(packageRoot(), 'schemas', `${name}.avsc`);
}

const cache = new Map<SchemaName, object>();

/** The schema as JSON (a fresh copy each call, so callers may modify it). */
export function loadSchemaJson(name: SchemaName): object {
  let json = cache.get(name);
  if (!json) {
    if (!(SCHEMA_NAMES as readonly string[]).includes(name))
      throw new SchemaError(`unknown schema ${String(name)}`);
    try {
      json = JSON.parse(readFileSync(schemaPath(name), 'utf8')) as object;
    } catch (e) {
      throw new SchemaError(`cannot load ${schemaPath(name)}: ${(e as Error).message}`);
    }
    cache.set(name, json);
  }
  return structuredClone(json);
}

/** The schema as an avsc Type. */
export function loadSchema(name: SchemaName): Type {
  return parseAvroSchema(loadSchemaJson(name));
}
