// Actions an agent takes on its own session with its session token (SPEC §7): heartbeat, checkpoint,
// suspend, close; and the admin's revoke. Each is one conditional store write, so a fenced worker
// (older epoch) or a concurrent state change can never be overwritten.
import type { ActionTrail } from '../audit/audit-draft.js';
import { GatewayError } from '../errors/gateway-error.js';
import { stateConflict } from './state-errors.js';
import type { PolicySnapshot } from '../policy/types.js';
import { OPEN_STATES, type CheckpointRecord, type SessionRecord, type SessionState, type Store } from '../store/types.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { Clock } from '../util/clock.js';
import { sha256Hex } from '../util/hash.js';
import { newCheckpointId } from '../util/ids.js';
import { renewLease, type LeaseRenewed } from './lease.js';
import type { SessionLifecycle } from './lifecycle.js';
import type { CheckpointInput } from './session-inputs.js';
import { refuseChanged } from './session-access.js';

const MAX_CHECKPOINT_STATE_BYTES = 64 * 1024; // SPEC §5

/** A state change the session asked for (suspend, close) or an admin made (revoke): the session after it. */
export interface TransitionedSession {
  readonly kind: 'transitioned';
  readonly session: SessionRecord;
  readonly checkpoint: CheckpointRecord | null;
}

export class SessionActions {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly lifecycle: SessionLifecycle,
  ) {}

  heartbeat(session: SessionRecord, policy: PolicySnapshot): Promise<LeaseRenewed> {
    return renewLease(this.store, session, policy.sessions.leaseTtlMs, this.clock.now());
  }

  async checkpoint(session: SessionRecord, policy: PolicySnapshot, input: CheckpointInput): Promise<{ readonly kind: 'checkpointed'; readonly checkpoint: CheckpointRecord }> {
    const state = input.state === undefined ? null : serialiseState(input.state);
    const now = this.clock.now();
    const checkpoint = await this.store.sessions.appendCheckpoint({
      checkpointId: newCheckpointId(),
      sessionId: session.sessionId,
      epoch: session.epoch,
      label: input.label ?? null,
      state,
      stateDigest: sha256Hex(state ?? 'null'),
      createdAt: now,
    });
    if (!checkpoint) return refuseChanged(this.store, session);
    // Recording progress is activity: it renews the lease (SPEC §5). The checkpoint is recorded already (the
    // append was fenced on the epoch), so a session changed since then does not undo the 201.
    await this.store.sessions.renewLease(session.sessionId, session.epoch, now + policy.sessions.leaseTtlMs, now);
    return { kind: 'checkpointed', checkpoint };
  }

  suspend(session: SessionRecord, reason: string | undefined, ctx: ActionTrail): Promise<TransitionedSession> {
    return this.transition(session.sessionId, ['active'], 'suspended', reason ?? 'requested', ctx);
  }

  close(session: SessionRecord, ctx: ActionTrail): Promise<TransitionedSession> {
    return this.transition(session.sessionId, OPEN_STATES, 'closed', 'requested', ctx);
  }

  async revoke(sessionId: string, reason: string | undefined, ctx: ActionTrail): Promise<TransitionedSession> {
    ctx.audit.sessionId = sessionId;
    return this.transition(sessionId, OPEN_STATES, 'revoked', reason ?? 'revoked by admin', ctx);
  }

  private async transition(sessionId: string, from: readonly SessionState[], to: SessionState, reason: string, ctx: ActionTrail): Promise<TransitionedSession> {
    const result = await this.store.sessions.transition(sessionId, { from, to, reason, now: this.clock.now() });
    if (!result.ok) {
      if (!result.current) throw new GatewayError('session_not_found');
      throw stateConflict(result.current);
    }
    ctx.audit.epoch = result.session.epoch;
    ctx.audit.taskId = result.session.taskId;
    ctx.audit.extra.reason = reason;
    // SPEC §8/§9.4: the session's streams and held calls end now; a final session's approvals expire.
    await this.lifecycle.changed(result.session, ctx.requestId);
    return { kind: 'transitioned', session: result.session, checkpoint: await this.store.sessions.latestCheckpoint(sessionId) };
  }
}

function serialiseState(state: unknown): string {
  const text = canonicalJson(state);
  if (Buffer.byteLength(text) > MAX_CHECKPOINT_STATE_BYTES) {
    throw new GatewayError('invalid_request', { detail: 'Checkpoint state exceeds 64 KiB', fields: { errors: [{ path: 'state', message: 'larger than 65536 bytes when serialised' }] } });
  }
  return text;
}

