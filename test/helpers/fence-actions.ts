// The four ways a session stops accepting a worker's epoch (SPEC §5, §7), as control-plane calls, with the
// refusal the fenced worker's calls then get (SPEC §6 steps 5–6).
import { ADMIN_SECRET, AGENT_SECRET } from './gateway.js';
import { bearer, postJson, type Reply } from './client.js';

export type FenceAction = 'revoke' | 'resume' | 'suspend' | 'close';

export const FENCE_ACTIONS: readonly { action: FenceAction; code: string }[] = [
  { action: 'revoke', code: 'session_revoked' },
  { action: 'resume', code: 'session_stale_epoch' },
  { action: 'suspend', code: 'session_suspended' },
  { action: 'close', code: 'session_closed' },
];

export function fence(control: string, action: FenceAction, sessionId: string, token: string): Promise<Reply> {
  const url = `${control}/v1/sessions/${sessionId}/${action}`;
  switch (action) {
    case 'revoke':
      return postJson(url, { reason: 'test' }, bearer(ADMIN_SECRET));
    case 'resume':
      return postJson(url, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    case 'suspend':
    case 'close':
      return postJson(url, {}, bearer(token));
  }
}
