import { GatewayError } from '../errors/gateway-error.js';
import type { SessionRecord } from '../store/types.js';

/** A control-plane action found the session in a state that does not allow it (SPEC §7: 409). */
export function stateConflict(session: SessionRecord): GatewayError {
  const code = session.state === 'revoked' ? 'session_revoked' : session.state === 'closed' ? 'session_closed' : 'session_suspended';
  // A suspended session needs a resume before anything else (SPEC §7: token refresh needs a resume).
  const fields = code === 'session_suspended' ? { resume_required: true } : {};
  return new GatewayError(code, { conflict: true, detail: `The session is ${session.state}`, fields });
}
