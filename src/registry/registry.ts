// The model registry: models/<name>/<version>/ artifacts, models/<name>/current naming the
// serving version, models/<name>/history.json recording what was current, so rollback can step
// back. Every change is a temporary file renamed into place; versions are never modified.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  ArtifactError,
  loadArtifact,
  syncDir,
  writeArtifact,
  type ArtifactParts,
  type ModelArtifact,
  type WriteOptions,
} from './artifact.js';

export type RegistryProblem =
  | 'bad-name' // a model name or version that is not allowed
  | 'unknown-version'
  | 'no-current' // nothing has been promoted yet
  | 'no-history' // nothing to roll back to
  | 'corrupt-state'; // current or history.json unreadable

export class RegistryError extends Error {
  constructor(
    readonly problem: RegistryProblem,
    readonly model: string,
    readonly detail: string,
    readonly version?: string,
    options?: { cause?: unknown },
  ) {
    super(
      `registry model ${model}${version === undefined ? '' : ` version ${version}`}: ${problem}: ${detail}`,
      options,
    );
    this.name = 'RegistryError';
  }
}

export interface HistoryEvent {
  /** ISO 8601 */
  at: string;
  action: 'promote' | 'rollback' | 'set';
  from: string | null;
  to: string;
}

/** history.json: `stack` ends with the current version; rollback pops it. */
export interface History {
  stack: string[];
  log: HistoryEvent[];
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const VERSION_RE = /^v(\d{4,})$/;
const CURRENT_FILE = 'current';
const HISTORY_FILE = 'history.json';
const WRITE_ATTEMPTS = 5;

/** v0001, v0002, ... v9999, v10000: zero-padded to 4, sorted by number. */
export function formatVersion(n: number): string {
  return `v${String(n).padStart(4, '0')}`;
}

function versionNumber(v: string): number | undefined {
  const m = VERSION_RE.exec(v);
  return m === null ? undefined : Number(m[1]);
}

async function writeAtomic(file: string, data: string): Promise<void> {
  const tmp = `${path.join(path.dirname(file), '.' + path.basename(file))}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await fs.open(tmp, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(path.dirname(file));
}

export class ModelRegistry {
  constructor(readonly root: string) {}

  private modelDir(name: string): string {
    if (!NAME_RE.test(name)) throw new RegistryError('bad-name', name, `model name must match ${NAME_RE}`);
    return path.join(this.root, name);
  }

  /** Folder of one version (whether or not it exists). */
  versionDir(name: string, version: string): string {
    if (versionNumber(version) === undefined) {
      throw new RegistryError('bad-name', name, `version must look like v0001`, version);
    }
    return path.join(this.modelDir(name), version);
  }

  /** Complete versions, oldest first. Temporary folders of writes in progress are not listed. */
  async list(name: string): Promise<string[]> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(this.modelDir(name), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return entries
      .filter((e) => e.isDirectory() && versionNumber(e.name) !== undefined)
      .map((e) => e.name)
      .sort((a, b) => versionNumber(a)! - versionNumber(b)!);
  }

  /** The serving version, or undefined when none was promoted. */
  async current(name: string): Promise<string | undefined> {
    const file = path.join(this.modelDir(name), CURRENT_FILE);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const v = text.trim();
    if (versionNumber(v) === undefined) {
      throw new RegistryError('corrupt-state', name, `${file} holds ${JSON.stringify(text)}, not a version`);
    }
    return v;
  }

  async history(name: string): Promise<History> {
    const file = path.join(this.modelDir(name), HISTORY_FILE);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { stack: [], log: [] };
      throw e;
    }
    let h: unknown;
    try {
      h = JSON.parse(text);
    } catch (e) {
      throw new RegistryError('corrupt-state', name, `${file} is not valid JSON`, undefined, { cause: e });
    }
    const o = h as Partial<History>;
    if (
      typeof h !== 'object' ||
      h === null ||
      !Array.isArray(o.stack) ||
      !o.stack.every((v) => typeof v === 'string') ||
      !Array.isArray(o.log)
    ) {
      throw new RegistryError(
        'corrupt-state',
        name,
        `${file} lacks a string array 'stack' and an array 'log'`,
      );
    }
    return { stack: o.stack, log: o.log };
  }

  /**
   * Store a new version (the next number) and return it. Not made current: call promote.
   * parentVersion defaults to the current version.
   */
  async write(name: string, parts: ArtifactParts, opts: WriteOptions = {}): Promise<string> {
    const withParent = {
      ...parts,
      parentVersion:
        parts.parentVersion !== undefined ? parts.parentVersion : ((await this.current(name)) ?? null),
    };
    for (let attempt = 0; ; attempt++) {
      const versions = await this.list(name);
      const last = versions.length === 0 ? 0 : versionNumber(versions[versions.length - 1]!)!;
      const version = formatVersion(last + 1);
      try {
        await writeArtifact(this.versionDir(name, version), { name, version }, withParent, opts);
        return version;
      } catch (e) {
        // Another writer took this number first: take the next one.
        if (e instanceof ArtifactError && e.problem === 'exists' && attempt + 1 < WRITE_ATTEMPTS) continue;
        throw e;
      }
    }
  }

  /** Load and validate a version (default: the current one). */
  async load(name: string, version?: string): Promise<ModelArtifact> {
    const v = version ?? (await this.current(name));
    if (v === undefined) throw new RegistryError('no-current', name, 'no version has been promoted');
    const dir = this.versionDir(name, v);
    try {
      await fs.stat(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new RegistryError('unknown-version', name, `${dir} does not exist`, v, { cause: e });
      }
      throw e;
    }
    const a = await loadArtifact(dir);
    if (a.manifest.name !== name || a.manifest.version !== v) {
      throw new ArtifactError(
        dir,
        'manifest.json',
        'schema',
        `manifest names ${a.manifest.name}/${a.manifest.version}, folder is ${name}/${v}`,
      );
    }
    return a;
  }

  /**
   * Point `current` at a version that exists, without validating its files (promote does).
   * history.json is written first, then current: a crash between the two is repaired on the
   * next change (see `consistentStack`).
   */
  async setCurrent(name: string, version: string, action: HistoryEvent['action'] = 'set'): Promise<void> {
    const dir = this.versionDir(name, version);
    try {
      await fs.stat(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new RegistryError('unknown-version', name, `${dir} does not exist`, version, { cause: e });
      }
      throw e;
    }
    const from = (await this.current(name)) ?? null;
    const h = await this.history(name);
    const stack = consistentStack(h.stack, from);
    if (action === 'rollback') stack.pop();
    else stack.push(version);
    if (stack[stack.length - 1] !== version) stack.push(version);
    const event: HistoryEvent = { at: new Date().toISOString(), action, from, to: version };
    await writeAtomic(
      path.join(this.modelDir(name), HISTORY_FILE),
      JSON.stringify({ stack, log: [...h.log, event] }, null, 1) + '\n',
    );
    await writeAtomic(path.join(this.modelDir(name), CURRENT_FILE), version + '\n');
  }

  /** Validate a version fully, then make it current. A corrupt version leaves current as it was. */
  async promote(name: string, version: string): Promise<ModelArtifact> {
    const artifact = await this.load(name, version);
    if ((await this.current(name)) !== version) await this.setCurrent(name, version, 'promote');
    return artifact;
  }

  /** Make the previously current version current again; returns it. Validated first. */
  async rollback(name: string): Promise<string> {
    const cur = await this.current(name);
    if (cur === undefined)
      throw new RegistryError('no-current', name, 'nothing is current, nothing to roll back');
    const stack = consistentStack((await this.history(name)).stack, cur);
    if (stack.length < 2)
      throw new RegistryError('no-history', name, `${cur} has no predecessor in ${HISTORY_FILE}`, cur);
    const target = stack[stack.length - 2]!;
    await this.load(name, target);
    await this.setCurrent(name, target, 'rollback');
    return target;
  }
}

/**
 * The history stack, made to end with `current`. After a crash between writing history.json and
 * current, the stack ends with a version that never became current: drop it.
 */
function consistentStack(stack: string[], current: string | null): string[] {
  const s = [...stack];
  if (current === null) return s;
  while (s.length > 0 && s[s.length - 1] !== current) s.pop();
  if (s.length === 0) s.push(current);
  return s;
}
