import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHelp, parseCommand, UsageError, type CommandSpec } from '../../../src/cli/args.js';

const spec: CommandSpec = {
  name: 'train',
  summary: 'train a model',
  options: {
    data: { kind: 'string', help: 'input file', required: true },
    epochs: { kind: 'number', help: 'epochs', default: 10 },
    variant: {
      kind: 'string',
      help: 'DCL',
      choices: ['dual-linear', 'dual-attention'],
      default: 'dual-attention',
    },
    json: { kind: 'boolean', help: 'JSON' },
    widths: { kind: 'list', help: 'layer widths' },
  },
};

test('options parse with types, defaults and lists', () => {
  const p = parseCommand(spec, ['--data', 'x.csv', '--epochs', '3', '--json', '--widths', '64,32']);
  assert.equal(p.opts.data, 'x.csv');
  assert.equal(p.opts.epochs, 3);
  assert.equal(p.opts.variant, 'dual-attention');
  assert.equal(p.opts.json, true);
  assert.deepEqual(p.opts.widths, ['64', '32']);
});

test('bad options are usage errors naming the option', () => {
  assert.throws(
    () => parseCommand(spec, []),
    (e: unknown) => e instanceof UsageError && /--data is required/.test(e.message),
  );
  assert.throws(
    () => parseCommand(spec, ['--data', 'x', '--epochs', 'ten']),
    /--epochs must be a number, got "ten"/,
  );
  assert.throws(
    () => parseCommand(spec, ['--data', 'x', '--variant', 'x']),
    /must be one of dual-linear, dual-attention/,
  );
  assert.throws(() => parseCommand(spec, ['--data', 'x', '--bogus']), UsageError);
});

test('--help is recognised before validation and lists every option', () => {
  assert.equal(parseCommand(spec, ['--help']).help, true);
  const h = formatHelp(spec);
  for (const k of Object.keys(spec.options)) assert.ok(h.includes(`--${k}`), k);
  assert.match(h, /default: 10/);
});
