// A tiny declarative option parser over node:util parseArgs, so every command gets the same
// `--help`, the same error messages and the same `--json` convention.
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** An error a user can act on: printed as one line, exit code 2 (1 is for unexpected failures). */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export type OptionKind = 'string' | 'number' | 'boolean' | 'list';

export interface OptionSpec {
  kind: OptionKind;
  help: string;
  default?: string | number | boolean;
  short?: string;
  /** For 'string': allowed values. */
  choices?: readonly string[];
  required?: boolean;
  placeholder?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage?: string;
  description?: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments, for the usage line. */
  positionals?: { name: string; help: string; required?: boolean }[];
  examples?: string[];
}

export type ParsedValue = string | number | boolean | string[] | undefined;
export interface Parsed {
  opts: Record<string, ParsedValue>;
  positionals: string[];
  help: boolean;
}

export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = {
      type: o.kind === 'boolean' ? 'boolean' : 'string',
      ...(o.short ? { short: o.short } : {}),
      ...(o.kind === 'list' ? { multiple: true } : {}),
    };
  }
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true }));
  } catch (err) {
    throw new UsageError(`${spec.name}: ${(err as Error).message.replace(/\. To specify.*$/s, '')}`);
  }
  if (values.help) return { opts: {}, positionals, help: true };
  const opts: Record<string, ParsedValue> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const raw = values[name];
    if (raw === undefined) {
      if (o.required) throw new UsageError(`${spec.name}: --${name} is required (${o.help})`);
      opts[name] = o.default;
      continue;
    }
    if (o.kind === 'number') {
      const s = String(raw);
      const v = Number(s);
      if (s.trim() === '' || !Number.isFinite(v))
        throw new UsageError(`${spec.name}: --${name} must be a number, got "${s}"`);
      opts[name] = v;
    } else if (o.kind === 'list') {
      opts[name] = (raw as string[]).flatMap((s) => String(s).split(',')).filter((s) => s.length > 0);
    } else if (o.kind === 'string') {
      const s = String(raw);
      if (o.choices && !o.choices.includes(s))
        throw new UsageError(`${spec.name}: --${name} must be one of ${o.choices.join(', ')}; got "${s}"`);
      opts[name] = s;
    } else {
      opts[name] = Boolean(raw);
    }
  }
  return { opts, positionals, help: false };
}

export function formatHelp(spec: CommandSpec): string {
  const lines: string[] = [];
  const pos = (spec.positionals ?? []).map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`)).join(' ');
  lines.push(`Usage: ddcl ${spec.usage ?? `${spec.name}${pos ? ' ' + pos : ''} [options]`}`);
  lines.push('', spec.summary);
  if (spec.description) lines.push('', spec.description);
  if (spec.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(24)} ${p.help}`);
  }
  lines.push('', 'Options:');
  for (const [name, o] of Object.entries(spec.options)) {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.kind === 'boolean' ? '' : ` ${o.placeholder ?? (o.kind === 'number' ? 'N' : 'VALUE')}`}`;
    const extra = [
      o.choices ? `one of: ${o.choices.join(', ')}` : '',
      o.default !== undefined && o.kind !== 'boolean' ? `default: ${String(o.default)}` : '',
      o.required ? 'required' : '',
    ]
      .filter(Boolean)
      .join('; ');
    lines.push(`  ${flag.padEnd(28)} ${o.help}${extra ? ` (${extra})` : ''}`);
  }
  lines.push(`  ${'-h, --help'.padEnd(28)} show this help`);
  if (spec.examples?.length) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return lines.join('\n') + '\n';
}

/** `--json`: the last line of stdout is one JSON object, numbers as numbers. */
export function printJson(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

export function str(p: Parsed, k: string): string | undefined {
  const v = p.opts[k];
  return v === undefined ? undefined : String(v);
}
export function num(p: Parsed, k: string): number | undefined {
  const v = p.opts[k];
  return v === undefined ? undefined : Number(v);
}
export function bool(p: Parsed, k: string): boolean {
  return p.opts[k] === true;
}
export function list(p: Parsed, k: string): string[] {
  const v = p.opts[k];
  return Array.isArray(v) ? v : [];
}
