import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';

/** The platform's JetStream streams (ARCHITECTURE.md, Events). */
export const STREAMS = {
  AUDIT: { name: 'AUDIT', subjects: ['audit.>'], retention: RetentionPolicy.Limits },
  SYSLOG: { name: 'SYSLOG', subjects: ['syslog.>'], retention: RetentionPolicy.Limits },
  ANALYSIS_JOBS: { name: 'ANALYSIS_JOBS', subjects: ['jobs.analysis'], retention: RetentionPolicy.Workqueue },
  TRAINING_JOBS: { name: 'TRAINING_JOBS', subjects: ['jobs.training'], retention: RetentionPolicy.Workqueue },
  /** Account lifecycle facts (users.deleted): every service keeps its own durable consumer. */
  USERS: { name: 'USERS', subjects: ['users.>'], retention: RetentionPolicy.Limits },
} as const;

export type StreamName = keyof typeof STREAMS;

const DAY_NS = 24 * 60 * 60 * 1e9;

/** Creates the stream if missing (idempotent; an existing stream is left as it is). */
export async function ensureStream(jsm: JetStreamManager, name: StreamName): Promise<void> {
  const def = STREAMS[name];
  try {
    await jsm.streams.info(def.name);
    return;
  } catch {
    // not found: create below
  }
  const config: Partial<StreamConfig> & { name: string } = {
    name: def.name,
    subjects: [...def.subjects],
    retention: def.retention,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: 30 * DAY_NS,
    duplicate_window: 10 * 60 * 1e9,
  };
  try {
    await jsm.streams.add(config);
  } catch (error) {
    // A concurrent creator won the race.
    await jsm.streams.info(def.name).catch(() => {
      throw error;
    });
  }
}
