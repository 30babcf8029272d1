import type { EntityManager } from '@mikro-orm/postgresql';
import { DomainError } from '@charge/errors';
import { enqueueAudit } from '@charge/events';
import type { Caller } from '@charge/service-kit';

export const SERVICE = 'training';

/** Shared collaborators of the use cases. */
export interface UseCaseDeps {
  /** Wakes the outbox relay after a commit that staged messages. */
  relay: { kick(): void };
  dataDir: string;
  maxDatasetBytes: number;
  llamaFactoryCli: string;
}

export const isAdmin = (caller: Caller) => caller.claims.role === 'admin';

/** Owners and admins may change a resource; others get NOT_FOUND unless they can see it. */
export function assertOwner(caller: Caller, row: { createdBy?: number | null }, visible = false): void {
  if (isAdmin(caller) || row.createdBy === caller.claims.userId) return;
  throw visible
    ? DomainError.permissionDenied('only the owner or an admin may change this')
    : DomainError.notFound('resource', '');
}

export function audit(
  em: EntityManager,
  caller: Caller,
  action: string,
  resourceType: string,
  resourceId: number,
  values: { oldValues?: Record<string, unknown> | null; newValues?: Record<string, unknown> | null } = {},
): void {
  enqueueAudit(em, { service: SERVICE, action, resourceType, resourceId, ...values, actor: caller.actor });
}

export { requireId as checkId, requireText, type Caller } from '@charge/service-kit';
