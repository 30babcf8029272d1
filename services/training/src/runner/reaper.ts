import type { MikroORM } from '@mikro-orm/postgresql';
import { enqueueAudit } from '@charge/events';
import type { Logger } from '@charge/service-kit';
import { LogEntity } from '../persistence/log.entity';
import { TaskEntity } from '../persistence/task.entity';

/**
 * Fails RUNNING tasks whose runner stopped sending heartbeats (`updated_at` older than
 * `staleMs`): a runner that died leaves no task running forever. The owner resumes them
 * from the last checkpoint with ResumeTask. Safe to run in every replica.
 */
export class Reaper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly orm: MikroORM,
    private readonly staleMs: number,
    private readonly logger: Logger,
    private readonly relay: { kick(): void },
  ) {}

  start(intervalMs = Math.max(250, Math.floor(this.staleMs / 2))): void {
    this.timer = setInterval(() => {
      this.running ??= this.reapOnce()
        .catch((error) => this.logger.warn({ err: error }, 'reaper pass failed'))
        .finally(() => (this.running = undefined));
    }, intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns the ids of the tasks it failed. */
  async reapOnce(): Promise<number[]> {
    const em = this.orm.em.fork();
    const cutoff = new Date(Date.now() - this.staleMs);
    const stale = await em.find(
      TaskEntity,
      { status: 'running', updatedAt: { $lt: cutoff } },
      { fields: ['id'] },
    );
    const reaped: number[] = [];
    for (const { id } of stale) {
      const now = new Date();
      const message = `runner lost: no heartbeat for ${Math.round(this.staleMs / 1000)} s; ResumeTask continues from the last checkpoint`;
      const n = await em.transactional(async (tem) => {
        const changed = await tem.nativeUpdate(
          TaskEntity,
          { id, status: 'running', updatedAt: { $lt: cutoff } },
          { status: 'failed', errorMessage: message, endTime: now, updatedAt: now },
        );
        if (changed !== 1) return 0;
        await tem.insertMany(LogEntity, [
          {
            taskId: id,
            logLevel: 'ERROR',
            message,
            metaInfo: { source: 'reaper' },
            createdAt: now,
          },
        ]);
        enqueueAudit(tem, {
          service: 'training',
          action: 'reaped',
          resourceType: 'task',
          resourceId: id,
          oldValues: { status: 'running' },
          newValues: { status: 'failed', error_message: message },
          actor: {},
        });
        return 1;
      });
      if (n !== 1) continue;
      reaped.push(id);
      this.relay.kick();
      this.logger.warn({ task_id: id }, 'reaped a task without heartbeat');
    }
    return reaped;
  }
}
