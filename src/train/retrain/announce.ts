// Model announcements on the compacted models topic (key: the model name, so compaction keeps
// the latest version of each): the `train` role publishes one when it promotes a version, and
// every scorer, reading the topic from the beginning in a group of its own, loads it.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Type } from 'avsc';
import { loadSchema } from '../../codec/index.js';
import { Featurizer } from '../../features/index.js';
import { loadArtifact, type ModelArtifact } from '../../registry/artifact.js';
import type { Consumer, KafkaClient, Producer, TopicSpec } from '../../stream/types.js';

/** One schemas/model_announcement.avsc record. */
export interface ModelAnnouncement {
  name: string;
  version: string;
  parent_version: string | null;
  /** Epoch ms. */
  created: number;
  uri: string;
  input_dim: number;
  /** sha256 of the feature spec, hex (Featurizer.fingerprint). */
  fingerprint: string;
  schema_fingerprint: string | null;
}

let type: Type | undefined;
const announcementType = (): Type => (type ??= loadSchema('model_announcement'));

export function announcementOf(a: ModelArtifact, uri: string = a.dir): ModelAnnouncement {
  const m = a.manifest;
  return {
    name: m.name,
    version: m.version,
    parent_version: m.parentVersion,
    created: Date.parse(m.created),
    uri,
    input_dim: m.inputDim,
    fingerprint: Featurizer.fromJSON(a.features).fingerprint,
    schema_fingerprint: m.inputSchemaFingerprint || null,
  };
}

export function encodeAnnouncement(a: ModelAnnouncement): Buffer {
  return announcementType().toBuffer(a);
}

export function decodeAnnouncement(buf: Buffer): ModelAnnouncement {
  const r = announcementType().fromBuffer(buf) as Record<string, unknown>;
  return { ...(r as unknown as ModelAnnouncement) };
}

/** The models topic's spec: compacted, one partition (announcements are totally ordered). */
export function modelsTopicSpec(topic: string): TopicSpec {
  return { topic, numPartitions: 1, config: { 'cleanup.policy': 'compact' } };
}

/** Publishes the announcement of an artifact; resolves once the broker acknowledged it. */
export async function announce(
  producer: Producer,
  topic: string,
  artifact: ModelArtifact,
  opts: { uri?: string } = {},
): Promise<ModelAnnouncement> {
  const a = announcementOf(artifact, opts.uri);
  await producer.send([
    { topic, key: a.name, value: encodeAnnouncement(a), headers: { 'ddcl-model': `${a.name}@${a.version}` } },
  ]);
  return a;
}

/** Loads an announced artifact from its uri (a path shared between instances) and checks it is the one announced. */
export async function loadAnnounced(a: ModelAnnouncement): Promise<ModelArtifact> {
  const dir = a.uri.startsWith('file://') ? new URL(a.uri).pathname : a.uri;
  const art = await loadArtifact(dir);
  const fp = Featurizer.fromJSON(art.features).fingerprint;
  if (art.manifest.name !== a.name || art.manifest.version !== a.version || fp !== a.fingerprint)
    throw new AnnouncementError(
      `${dir} holds ${art.manifest.name}@${art.manifest.version} (features ${fp.slice(0, 12)}), announced ${a.name}@${a.version} (features ${a.fingerprint.slice(0, 12)})`,
    );
  return art;
}

export class AnnouncementError extends Error {
  override readonly name = 'AnnouncementError';
}

export interface ListenerOptions {
  topic: string;
  /** Default `ddcl-models-<host>-<pid>-<random>`: a group of its own, so every instance sees every announcement. */
  groupId?: string;
  /** Only this model's announcements (default: all). */
  model?: string;
  onAnnouncement: (a: ModelAnnouncement) => void | Promise<void>;
  /** A record that is not an announcement (left out). */
  onError?: (e: Error, where: { partition: number; offset: string }) => void;
}

/** Reads the models topic from the beginning and calls back with each announcement, in order. */
export class AnnouncementListener {
  private consumer: Consumer | undefined;
  private readonly latestByName = new Map<string, ModelAnnouncement>();
  readonly groupId: string;

  constructor(
    private readonly client: KafkaClient,
    private readonly opts: ListenerOptions,
  ) {
    this.groupId =
      opts.groupId ?? `ddcl-models-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  /** The last announcement seen for a model. */
  latest(name: string): ModelAnnouncement | undefined {
    return this.latestByName.get(name);
  }

  async start(): Promise<void> {
    const c = await this.client.consumer({ groupId: this.groupId, fromBeginning: true, maxWaitTimeMs: 200 });
    this.consumer = c;
    await c.subscribe([this.opts.topic]);
    await c.run({
      eachBatch: async (batch) => {
        for (const r of batch.records) {
          if (r.value === null) continue; // a tombstone: the model was retired
          let a: ModelAnnouncement;
          try {
            a = decodeAnnouncement(r.value);
          } catch (e) {
            this.opts.onError?.(e instanceof Error ? e : new Error(String(e)), {
              partition: batch.partition,
              offset: r.offset,
            });
            continue;
          }
          if (this.opts.model !== undefined && a.name !== this.opts.model) continue;
          this.latestByName.set(a.name, a);
          await this.opts.onAnnouncement(a);
        }
      },
    });
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    await c?.disconnect();
  }
}
