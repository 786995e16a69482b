// A plain-HTTP agent that manages its own epochgate session (no `epochgate run`), with the recovery loop.
// Node 20+, no dependencies.
export class Superseded extends Error {}

async function post(url, body, token) {
  const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** Creates the session for a task, or resumes the agent's open one (409 session_exists). */
export async function openSession({ control, agentId, secret, taskId }) {
  const credential = { agent_id: agentId, client_secret: secret };
  const created = await post(`${control}/v1/sessions`, { ...credential, task_id: taskId });
  if (created.status === 201) return { control, credential, ...created.body };
  if (created.body.code !== 'session_exists') throw new Error(`create: ${created.body.code}`);
  return resume({ control, credential, session_id: created.body.session_id });
}

/**
 * Resume with expected_epoch = the epoch this worker held. If another worker resumed the session in the
 * meantime, the gateway answers 409 epoch_conflict: this worker was superseded and must stop, never
 * resume again (two workers that each "resume on resume_required" would fence each other forever).
 */
export async function resume(session) {
  const body = { ...session.credential, ...(session.epoch ? { expected_epoch: session.epoch } : {}) };
  const res = await post(`${session.control}/v1/sessions/${session.session_id}/resume`, body);
  if (res.status === 409 && res.body.code === 'epoch_conflict') throw new Superseded(`superseded: epoch ${res.body.current_epoch} belongs to another worker`);
  if (res.status !== 200) throw new Error(`resume: ${res.body.code}`);
  return { ...session, ...res.body };
}

/** One tool call with the recovery loop. `session` is updated in place after a resume or a refresh. */
export async function callTool(session, tool, path, init = {}) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const res = await fetch(`${session.tool_urls[tool]}${path}`, {
      ...init,
      headers: { ...init.headers, authorization: `Bearer ${session.token}` },
    });
    if (res.status !== 401) return res;
    const problem = await res.clone().json();
    if (problem.code === 'session_suspended' || problem.code === 'session_stale_epoch') {
      // Lease ran out, or someone resumed: resume with the epoch held. A stale epoch usually means another
      // worker took over, and then this resume answers epoch_conflict (Superseded).
      Object.assign(session, await resume(session));
    } else if (problem.code === 'token_expired') {
      // Same epoch, fresh token (the session must be active).
      const fresh = await post(`${session.control}/v1/sessions/${session.session_id}/token`, session.credential);
      if (fresh.status !== 200) throw new Error(`token: ${fresh.body.code}`);
      // A refresh answers for the *current* epoch: if it moved on, the session is someone else's now.
      if (fresh.body.epoch !== session.epoch) throw new Superseded(`superseded: epoch ${fresh.body.epoch} belongs to another worker`);
      Object.assign(session, fresh.body);
    } else {
      return res; // session_closed, session_revoked, token_invalid…: nothing to recover
    }
  }
  throw new Error('still refused after recovering');
}

/** Records verified progress; a resumed worker continues from the checkpoint the resume returns. */
export async function checkpoint(session, label, state) {
  const res = await post(`${session.control}/v1/sessions/${session.session_id}/checkpoints`, { label, state }, session.token);
  if (res.status !== 201) throw new Error(`checkpoint: ${res.body.code}`);
  return res.body;
}

export async function closeSession(session) {
  await post(`${session.control}/v1/sessions/${session.session_id}/close`, {}, session.token);
}
