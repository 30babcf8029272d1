import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { AnalysisStage, AnalysisStatus } from '../domain/status';
import type { AnalysisRow } from '../persistence/analysis.entity';

/** One observed state of an analysis. */
export interface ProgressEvent {
  analysisId: number;
  status: AnalysisStatus;
  stage: AnalysisStage | null;
  progress: number;
  errorMessage: string;
  time: Date;
}

/** The event describing a stored analysis now. */
export function eventOf(row: AnalysisRow): ProgressEvent {
  return {
    analysisId: row.id,
    status: row.status,
    stage: row.stage,
    progress: row.progress,
    errorMessage: row.errorMessage ?? '',
    time: new Date(),
  };
}

/** Encoding of events on the wire (the handlers own the proto mapping). */
export interface ProgressCodec {
  encode(event: ProgressEvent): Uint8Array;
  decode(bytes: Uint8Array): ProgressEvent;
}

/**
 * Core NATS fan-out of progress on `analysis.progress.<id>`: live updates for
 * WatchAnalysis and the cancel signal for workers in any replica. Best effort — watchers
 * also poll the database, and workers re-check the stored status.
 */
export class ProgressBus {
  constructor(
    private readonly nc: NatsConnection,
    private readonly codec: ProgressCodec,
  ) {}

  static subject(id: number | '*'): string {
    return `analysis.progress.${id}`;
  }

  publish(event: ProgressEvent): void {
    try {
      this.nc.publish(ProgressBus.subject(event.analysisId), this.codec.encode(event));
    } catch {
      // A closed or reconnecting connection: the database stays the source of truth.
    }
  }

  /** Subscribes to one analysis (or all with '*'); returns the unsubscribe function. */
  subscribe(id: number | '*', onEvent: (event: ProgressEvent) => void): () => void {
    const sub: Subscription = this.nc.subscribe(ProgressBus.subject(id), {
      callback: (err, msg) => {
        if (err) return;
        let event: ProgressEvent;
        try {
          event = this.codec.decode(msg.data);
        } catch {
          return;
        }
        onEvent(event);
      },
    });
    return () => sub.unsubscribe();
  }
}
