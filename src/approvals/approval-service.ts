// The people's side of SPEC §9: listing, reading and deciding approvals, and the expiry sweep. Returns
// approval records; the adapter (control/approval-routes.ts) shapes them into bodies.
// Who may decide is read from the CURRENT policy at the moment of the decision: a person holding one of the
// approver roles of the approval's rule. `admin` alone reads everything but decides nothing (SPEC §9
// separation of duties); an approval whose rule is gone from the policy can be decided by nobody.
import type { AuditLog } from '../audit/types.js';
import type { ActionTrail } from '../audit/audit-draft.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { PersonDef, PolicySnapshot } from '../policy/types.js';
import type { ApprovalRecord, ApprovalState } from '../store/approval-types.js';
import type { StoreSignals } from '../store/signal-types.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { approvalAuditExtra, systemExpireEvent } from './approval-events.js';
import type { ApprovalSignal } from './approval-signal.js';

const ADMIN_ROLE = 'admin';
/** Upper bound of one list answer (newest first). */
export const APPROVAL_LIST_LIMIT = 1000;

export interface ApprovalServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly policy: { current(): PolicySnapshot };
  readonly audit: AuditLog;
  /** Tells calls held on this and other replicas that a decision was made (they wake now, not at a poll). */
  readonly signals?: Pick<StoreSignals, 'publish'>;
  /** Told of every decision and expiry made here (the console's live inbox). */
  readonly signal?: ApprovalSignal;
}

export interface ApprovalListQuery {
  readonly state?: ApprovalState | undefined;
  readonly sessionId?: string | undefined;
}

/** A person's decision, as recorded (pending → approved | denied). */
export interface DecidedApproval {
  readonly kind: 'decided';
  readonly approval: ApprovalRecord;
}

export class ApprovalService {
  constructor(private readonly deps: ApprovalServiceDeps) {}

  /** SPEC §7: an approver sees the approvals they may decide; an admin sees all. */
  async list(person: PersonDef, query: ApprovalListQuery): Promise<readonly ApprovalRecord[]> {
    const policy = this.deps.policy.current();
    const rules = decidableRules(policy, person);
    const admin = person.roles.includes(ADMIN_ROLE);
    if (!admin && rules.length === 0) throw notApprover();
    return this.deps.store.approvals.list({
      ...(query.state ? { state: query.state } : {}),
      ...(query.sessionId ? { sessionId: query.sessionId } : {}),
      ...(admin ? {} : { ruleIds: rules }),
      limit: APPROVAL_LIST_LIMIT,
    });
  }

  async get(person: PersonDef, approvalId: string): Promise<ApprovalRecord> {
    const policy = this.deps.policy.current();
    const rules = decidableRules(policy, person);
    const admin = person.roles.includes(ADMIN_ROLE);
    if (!admin && rules.length === 0) throw notApprover();
    const approval = await this.deps.store.approvals.get(approvalId);
    if (!approval) throw new GatewayError('approval_not_found');
    if (!admin && !rules.includes(approval.ruleId)) throw wrongRole(approval);
    return approval;
  }

  /** pending → approved|denied, by a person holding one of the rule's approver roles right now. */
  async decide(person: PersonDef, approvalId: string, state: 'approved' | 'denied', comment: string | null, ctx: ActionTrail): Promise<DecidedApproval> {
    ctx.audit.extra.approval_id = approvalId;
    const policy = this.deps.policy.current();
    const rules = decidableRules(policy, person);
    // Checked before the lookup, so a person who may decide nothing learns nothing about approval ids.
    if (rules.length === 0) throw notApprover();
    const found = await this.deps.store.approvals.get(approvalId);
    if (!found) throw new GatewayError('approval_not_found');
    describe(ctx, found);
    if (!rules.includes(found.ruleId)) throw wrongRole(found);
    const now = this.deps.clock.now();
    const result = await this.deps.store.approvals.decide(approvalId, { state, decidedBy: person.id, comment, now });
    if (result.ok) {
      this.deps.signal?.notify();
      describe(ctx, result.approval);
      await this.deps.signals?.publish({ kind: 'approval', approvalId, sessionId: result.approval.sessionId });
      return { kind: 'decided', approval: result.approval };
    }
    if (!result.current) throw new GatewayError('approval_not_found');
    let current = result.current;
    // Pending but past its ttl: it lapsed before anyone decided. Record that, then refuse like any non-pending.
    if (current.state === 'pending' && current.expiresAt <= now) {
      const expired = await this.deps.store.approvals.expire(approvalId, now, 'ttl');
      if (expired) {
        this.deps.audit.write(systemExpireEvent(expired, now, ctx.requestId));
        current = expired;
      }
    }
    describe(ctx, current);
    throw new GatewayError('approval_not_pending', {
      detail: `The approval is ${current.state}; only a pending approval can be decided`,
      fields: { approval_id: approvalId, state: current.state },
    });
  }

  /** Expires every pending or approved approval whose ttl passed, auditing each; returns how many. */
  async sweep(): Promise<number> {
    const now = this.deps.clock.now();
    const expired = await this.deps.store.approvals.expireDue(now);
    for (const approval of expired) this.deps.audit.write(systemExpireEvent(approval, now));
    if (expired.length > 0) this.deps.signal?.notify();
    return expired.length;
  }
}

/** Ids of the rules (current policy) whose approver roles the person holds. */
export function decidableRules(policy: PolicySnapshot, person: PersonDef): string[] {
  return policy.rules.filter((rule) => rule.approval?.approvers.some((role) => person.roles.includes(role))).map((rule) => rule.id);
}

function describe(ctx: ActionTrail, approval: ApprovalRecord): void {
  ctx.audit.sessionId = approval.sessionId;
  Object.assign(ctx.audit.extra, approvalAuditExtra(approval));
}

function notApprover(): GatewayError {
  return new GatewayError('forbidden', { detail: 'This needs an approver role of a rule in the current policy (admin may only read approvals)' });
}

function wrongRole(approval: ApprovalRecord): GatewayError {
  return new GatewayError('forbidden', { detail: `Deciding needs an approver role of rule ${approval.ruleId} in the current policy` });
}
