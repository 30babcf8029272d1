import type { MikroORM } from '@mikro-orm/postgresql';
import type { JsMsg } from '@nats-io/jetstream';
import { auditV1 } from '@charge/contracts';
import { PoisonMessageError } from '@charge/events';
import { auditEventProblem, auditRow, malformedEventRow, systemLogRow } from '../domain/event-rows';
import { LogStoreRepository } from '../persistence/log-store.repository';

/**
 * Turns AUDIT and SYSLOG messages into rows. Writes are idempotent by event id, so a
 * redelivery after a crash between commit and ack stores nothing twice. A message that
 * cannot be decoded is itself recorded in system_logs and terminated (no redelivery).
 */
export class EventIngest {
  constructor(private readonly orm: MikroORM) {}

  async onAudit(msg: JsMsg): Promise<void> {
    const repo = new LogStoreRepository(this.orm.em.fork());
    let event: auditV1.AuditEvent;
    try {
      event = auditV1.AuditEvent.decode(msg.data);
    } catch (error) {
      return this.poison(repo, 'AUDIT', msg, `undecodable protobuf (${(error as Error).message})`);
    }
    const problem = auditEventProblem(event);
    if (problem) return this.poison(repo, 'AUDIT', msg, problem);
    await repo.insertAudit(auditRow(event));
  }

  async onSystemLog(msg: JsMsg): Promise<void> {
    const repo = new LogStoreRepository(this.orm.em.fork());
    let event: auditV1.SystemLogEvent;
    try {
      event = auditV1.SystemLogEvent.decode(msg.data);
    } catch (error) {
      return this.poison(repo, 'SYSLOG', msg, `undecodable protobuf (${(error as Error).message})`);
    }
    if (!event.message) return this.poison(repo, 'SYSLOG', msg, 'message is empty');
    await repo.insertSystemLog(systemLogRow(event));
  }

  private async poison(
    repo: LogStoreRepository,
    stream: string,
    msg: JsMsg,
    problem: string,
  ): Promise<never> {
    await repo.insertSystemLog(malformedEventRow(stream, msg.subject, msg.seq, problem, msg.data));
    throw new PoisonMessageError(problem);
  }
}
