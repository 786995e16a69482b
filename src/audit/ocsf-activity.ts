// OCSF API Activity `activity_id` of every audit event (SPEC §13): one table, so a new event name is a
// compile error until it is classified.
import type { AuditEvent, AuditEventName } from './types.js';

export type ActivityId = 1 | 2 | 3 | 4 | 99;

/** SPEC §13: 1 Create (POST), 2 Read (GET, HEAD), 3 Update (PUT, PATCH), 4 Delete (DELETE), else 99 Other. */
export function activityFromMethod(method: string | undefined): ActivityId {
  switch (method?.toUpperCase()) {
    case 'POST':
      return 1;
    case 'GET':
    case 'HEAD':
      return 2;
    case 'PUT':
    case 'PATCH':
      return 3;
    case 'DELETE':
      return 4;
    default:
      return 99;
  }
}

// SPEC §13 activity per event. 'method': the HTTP method decides (data-plane calls).
// Beyond the SPEC's list: token refresh, heartbeat and lease expiry change the session's credential, lease or
// state, so they are Update like resume/suspend; approval.request creates an approval (Create), and its
// consume/expire are state changes (Update); ledger, policy and gateway events are none of CRUD (Other).
const ACTIVITY_BY_EVENT = {
  'tool.call': 'method',
  'session.create': 1,
  'session.resume': 3,
  'session.token': 3,
  'session.checkpoint': 3,
  'session.suspend': 3,
  'session.close': 3,
  'session.revoke': 3,
  'session.lease_expired': 3,
  'session.heartbeat': 3,
  'approval.request': 1,
  'approval.approve': 3,
  'approval.deny': 3,
  'approval.consume': 3,
  'approval.expire': 3,
  'ledger.replay': 99,
  'ledger.unknown': 99,
  'ledger.resolve': 99,
  'policy.load': 99,
  'policy.reload_failed': 99,
  'key.load': 99,
  'key.reload_failed': 99,
  'key.retire': 3,
  'gateway.start': 99,
  'gateway.stop': 99,
  'audit.recovered': 99,
  'audit.anchor': 99,
  // A console sign-in creates a console session; sign-out deletes it.
  'console.sign_in': 1,
  'console.sign_out': 4,
} as const satisfies Record<AuditEventName, ActivityId | 'method'>;

export function activityId(event: Pick<AuditEvent, 'event' | 'method'>): ActivityId {
  const mapped = ACTIVITY_BY_EVENT[event.event];
  return mapped === 'method' ? activityFromMethod(event.method) : mapped;
}
