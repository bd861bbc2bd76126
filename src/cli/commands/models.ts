import { bool, printJson, str, type CommandSpec, type Parsed } from '../args.js';
import type { Command } from '../main.js';

const common: CommandSpec['options'] = {
  registry: { kind: 'string', help: 'model registry folder', default: 'models', placeholder: 'DIR' },
  name: { kind: 'string', help: 'model name', default: 'default' },
  json: { kind: 'boolean', help: 'print the result as one JSON line' },
};

async function registry(p: Parsed) {
  const { ModelRegistry } = await import('../../registry/registry.js');
  return new ModelRegistry(str(p, 'registry')!);
}

export const modelsList: Command = {
  spec: {
    name: 'models list',
    summary: 'List the versions of a model; * marks the current one.',
    options: common,
  },
  async run(p) {
    const r = await registry(p);
    const name = str(p, 'name')!;
    const versions = await r.list(name);
    const current = (await r.current(name)) ?? null;
    if (bool(p, 'json')) printJson({ model: name, current, versions });
    else
      process.stdout.write(
        versions.length
          ? versions.map((v) => `${v === current ? '*' : ' '} ${v}`).join('\n') + '\n'
          : `no versions of ${name} in ${r.root}\n`,
      );
    return 0;
  },
};

export const modelsShow: Command = {
  spec: {
    name: 'models show',
    summary: 'Show one version: its manifest (validated, with checksums).',
    options: { ...common, version: { kind: 'string', help: 'version (default: current)', placeholder: 'V' } },
  },
  async run(p) {
    const r = await registry(p);
    const a = await r.load(str(p, 'name')!, str(p, 'version'));
    if (bool(p, 'json')) printJson(a.manifest);
    else process.stdout.write(JSON.stringify(a.manifest, null, 2) + '\n');
    return 0;
  },
};

export const modelsPromote: Command = {
  spec: {
    name: 'models promote',
    summary: 'Make a version current (after validating it). Running daemons pick it up when announced.',
    options: {
      ...common,
      version: { kind: 'string', help: 'version to promote', required: true, placeholder: 'V' },
    },
  },
  async run(p) {
    const r = await registry(p);
    const a = await r.promote(str(p, 'name')!, str(p, 'version')!);
    if (bool(p, 'json')) printJson({ model: a.manifest.name, current: a.manifest.version });
    else process.stdout.write(`${a.manifest.name}: current is now ${a.manifest.version}\n`);
    return 0;
  },
};

export const modelsRollback: Command = {
  spec: { name: 'models rollback', summary: 'Move current back to the previous version.', options: common },
  async run(p) {
    const r = await registry(p);
    const v = await r.rollback(str(p, 'name')!);
    if (bool(p, 'json')) printJson({ model: str(p, 'name'), current: v });
    else process.stdout.write(`${str(p, 'name')}: current is now ${v}\n`);
    return 0;
  },
};
