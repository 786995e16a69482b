// The control-plane calls of `epochgate run` (SPEC §7): create-or-resume, resume with expected_epoch,
// token refresh, heartbeat and close. Agent-credential calls carry the credential in the JSON body and
// no Authorization header; session-token calls carry the token as a bearer. Refusals become
// ControlRefusal with the catalogue code, so callers branch on codes (DESIGN rule 2).
import type { AgentCredential } from './agent-credential.js';
import { controlRequest } from './control-client.js';

export interface HeldSession {
  readonly sessionId: string;
  readonly epoch: number;
  readonly token: string;
  /** RFC 3339; when the lease runs out unless renewed. */
  readonly leaseExpiresAt: string;
  readonly toolUrls: Readonly<Record<string, string>>;
  /** The resume answer's `checkpoint` exactly as returned (null on create, or when there is none). */
  readonly checkpoint: unknown;
  readonly resumed: boolean;
}

export class ControlRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: unknown,
  ) {
    super(`${status} ${code}${detail ? `: ${detail}` : ''}`);
    this.name = 'ControlRefusal';
  }
}

export interface LauncherSessions {
  open(taskId: string | undefined, scope: readonly string[] | undefined): Promise<HeldSession>;
  resume(sessionId: string, expectedEpoch?: number): Promise<HeldSession>;
  refresh(sessionId: string): Promise<{ readonly token: string; readonly epoch: number }>;
  heartbeat(sessionId: string, token: string): Promise<string>;
  close(sessionId: string, token: string): Promise<void>;
}

export function launcherSessions(controlUrl: string, agentId: string, credential: AgentCredential): LauncherSessions {
  const post = async (path: string, body: Record<string, unknown>, token?: string): Promise<Record<string, unknown>> => {
    const res = await controlRequest({ url: controlUrl, method: 'POST', path, body, ...(token !== undefined ? { token } : {}) });
    if (!res.ok) throw new ControlRefusal(res.status, res.code, res.detail, res.body);
    return (res.body ?? {}) as Record<string, unknown>;
  };
  const withCredential = async (body: Record<string, unknown> = {}) => ({ agent_id: agentId, ...(await credential.fields()), ...body });
  const path = (sessionId: string, action: string) => `/v1/sessions/${encodeURIComponent(sessionId)}/${action}`;
  const resume = async (sessionId: string, expectedEpoch?: number) =>
    held(await post(path(sessionId, 'resume'), await withCredential(expectedEpoch !== undefined ? { expected_epoch: expectedEpoch } : {})), true);
  return {
    async open(taskId, scope) {
      try {
        const body = await withCredential({ ...(taskId !== undefined ? { task_id: taskId } : {}), ...(scope !== undefined ? { scope } : {}) });
        return held(await post('/v1/sessions', body), false);
      } catch (err) {
        // SPEC §15: the agent already has a non-final session for this task (e.g. the launcher crashed).
        const existing = err instanceof ControlRefusal && err.code === 'session_exists' ? (err.body as { session_id?: unknown }).session_id : undefined;
        if (typeof existing !== 'string') throw err;
        return resume(existing);
      }
    },
    resume,
    async refresh(sessionId) {
      const body = await post(path(sessionId, 'token'), await withCredential());
      return { token: String(body.token), epoch: Number(body.epoch) };
    },
    async heartbeat(sessionId, token) {
      return String((await post(path(sessionId, 'heartbeat'), {}, token)).lease_expires_at);
    },
    async close(sessionId, token) {
      await post(path(sessionId, 'close'), {}, token);
    },
  };
}

function held(body: Record<string, unknown>, resumed: boolean): HeldSession {
  if (typeof body.session_id !== 'string' || typeof body.token !== 'string' || typeof body.epoch !== 'number') {
    throw new Error('the control plane answered without session_id, epoch or token');
  }
  return {
    sessionId: body.session_id,
    epoch: body.epoch,
    token: body.token,
    leaseExpiresAt: String(body.lease_expires_at),
    toolUrls: (body.tool_urls ?? {}) as Record<string, string>,
    checkpoint: body.checkpoint ?? null,
    resumed,
  };
}
