// The input codec a config asks for: JSON, plain Avro, or the Confluent wire format with a
// Schema Registry or registry-less local schema files.
import { readFileSync } from 'node:fs';
import {
  AvroCodec,
  ConfluentCodec,
  JsonCodec,
  LocalSchemaSource,
  RegistrySchemaSource,
  type Codec,
} from '../codec/index.js';
import { ConfigError, type DdclConfig } from '../config/config.js';

export function readSchemaFile(path: string, key: string): object {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(
      key,
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return JSON.parse(text) as object;
  } catch (e) {
    throw new ConfigError(key, `${path} is not JSON: ${(e as Error).message}`);
  }
}

export function inputCodec(cfg: DdclConfig): { codec: Codec; schema?: object } {
  const i = cfg.input;
  const schema = i.schema ? readSchemaFile(i.schema, 'input.schema') : undefined;
  switch (i.format) {
    case 'json':
      return { codec: new JsonCodec(schema ? { schema } : {}), ...(schema ? { schema } : {}) };
    case 'avro':
      return { codec: new AvroCodec(schema!), schema: schema! };
    case 'confluent': {
      let source;
      if (i.registryUrl) source = new RegistrySchemaSource({ host: i.registryUrl });
      else if (i.schemaIds)
        source = LocalSchemaSource.fromFiles(
          Object.fromEntries(Object.entries(i.schemaIds).map(([k, v]) => [Number(k), String(v)])),
        );
      else
        throw new ConfigError(
          'input.registryUrl',
          'input.format confluent needs input.registryUrl or input.schemaIds (registry-less mode)',
        );
      return { codec: new ConfluentCodec({ source, readerSchema: schema! }), schema: schema! };
    }
  }
}
