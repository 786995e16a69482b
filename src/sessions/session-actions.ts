// Actions an agent takes on its own session with its session token (SPEC §7): heartbeat, checkpoint,
// suspend, close; and the admin's revoke. Each is one conditional store write, so a fenced worker
// (older epoch) or a concurrent state change can never be overwritten.
import type { ControlContext, ControlReply } from '../control/control-context.js';
import { GatewayError } from '../errors/gateway-error.js';
import { stateConflict } from './state-errors.js';
import type { PolicySnapshot } from '../policy/types.js';
import type { SessionRecord, SessionState, Store } from '../store/types.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { Clock } from '../util/clock.js';
import { rfc3339 } from '../util/clock.js';
import { sha256Hex } from '../util/hash.js';
import { newCheckpointId } from '../util/ids.js';
import { checkpointSummary, sessionView } from './views.js';
import { sessionRefusal } from './session-access.js';
import type { SessionLifecycle } from './lifecycle.js';

const MAX_CHECKPOINT_STATE_BYTES = 64 * 1024; // SPEC §5

export class SessionActions {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly lifecycle: SessionLifecycle,
  ) {}

  async heartbeat(session: SessionRecord, policy: PolicySnapshot, ctx: ControlContext): Promise<ControlReply> {
    ctx.audit.event = 'session.heartbeat';
    const now = this.clock.now();
    const leaseExpiresAt = now + policy.sessions.leaseTtlMs;
    if (!(await this.store.renewLease(session.sessionId, session.epoch, leaseExpiresAt, now))) await this.fenced(session);
    return { status: 200, body: { lease_expires_at: rfc3339(leaseExpiresAt) } };
  }

  async checkpoint(session: SessionRecord, policy: PolicySnapshot, input: { label?: string; state?: unknown }, ctx: ControlContext): Promise<ControlReply> {
    ctx.audit.event = 'session.checkpoint';
    const state = input.state === undefined ? null : serialiseState(input.state);
    const now = this.clock.now();
    const checkpoint = await this.store.appendCheckpoint({
      checkpointId: newCheckpointId(),
      sessionId: session.sessionId,
      epoch: session.epoch,
      label: input.label ?? null,
      state,
      stateDigest: sha256Hex(state ?? 'null'),
      createdAt: now,
    });
    if (!checkpoint) return this.fenced(session);
    // Recording progress is activity: it renews the lease (SPEC §5).
    await this.store.renewLease(session.sessionId, session.epoch, now + policy.sessions.leaseTtlMs, now);
    ctx.audit.extra.checkpoint_id = checkpoint.checkpointId;
    ctx.audit.extra.seq = checkpoint.seq;
    ctx.audit.extra.state_digest = checkpoint.stateDigest;
    return { status: 201, body: checkpointSummary(checkpoint) };
  }

  suspend(session: SessionRecord, reason: string | undefined, ctx: ControlContext): Promise<ControlReply> {
    ctx.audit.event = 'session.suspend';
    return this.transition(session.sessionId, ['active'], 'suspended', reason ?? 'requested', ctx);
  }

  close(session: SessionRecord, ctx: ControlContext): Promise<ControlReply> {
    ctx.audit.event = 'session.close';
    return this.transition(session.sessionId, ['active', 'suspended'], 'closed', 'requested', ctx);
  }

  async revoke(sessionId: string, reason: string | undefined, ctx: ControlContext): Promise<ControlReply> {
    ctx.audit.event = 'session.revoke';
    ctx.audit.sessionId = sessionId;
    return this.transition(sessionId, ['active', 'suspended'], 'revoked', reason ?? 'revoked by admin', ctx);
  }

  private async transition(sessionId: string, from: SessionState[], to: SessionState, reason: string, ctx: ControlContext): Promise<ControlReply> {
    const result = await this.store.transitionSession(sessionId, { from, to, reason, now: this.clock.now() });
    if (!result.ok) {
      if (!result.current) throw new GatewayError('session_not_found');
      throw stateConflict(result.current);
    }
    ctx.audit.epoch = result.session.epoch;
    ctx.audit.taskId = result.session.taskId;
    ctx.audit.extra.reason = reason;
    // SPEC §8/§9.4: the session's streams and held calls end now; a final session's approvals expire.
    await this.lifecycle.changed(result.session, ctx.requestId);
    return { status: 200, body: sessionView(result.session, await this.store.latestCheckpoint(sessionId)) };
  }

  /** A conditional write found the session changed since it was admitted: say how. */
  private async fenced(admitted: SessionRecord): Promise<never> {
    const current = await this.store.getSession(admitted.sessionId);
    throw sessionRefusal(current, admitted.epoch) ?? new GatewayError('internal_error');
  }
}

function serialiseState(state: unknown): string {
  const text = canonicalJson(state);
  if (Buffer.byteLength(text) > MAX_CHECKPOINT_STATE_BYTES) {
    throw new GatewayError('invalid_request', { detail: 'Checkpoint state exceeds 64 KiB', fields: { errors: [{ path: 'state', message: 'larger than 65536 bytes when serialised' }] } });
  }
  return text;
}

