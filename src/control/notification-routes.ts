// GET /v1/notifications?state= (SPEC §7, §18): the webhook outbox, for admins. A read: a direct store
// lookup, since a domain function would only wrap it.
import { z } from 'zod';
import { DELIVERY_STATES } from '../store/notification-types.js';
import { personCaller, requireAdmin } from './caller.js';
import { validate } from './json-body.js';
import { deliveryView } from './notification-views.js';
import { route, type ControlRoute } from './route.js';
import { queryParams } from '../http/query-params.js';

const notificationListQuery = z.object({ state: z.enum(DELIVERY_STATES).optional() }).strict();

/** Newest first; the outbox purges settled rows after a week, so this bounds one page, not the history. */
const LIST_LIMIT = 500;

export const NOTIFICATION_ROUTES: readonly ControlRoute[] = [
  route('GET', '/v1/notifications', null, async (deps, _p, req, ctx) => {
    requireAdmin(personCaller(deps.policy.current(), req, ctx));
    const query = validate(notificationListQuery, queryParams(req.url));
    const deliveries = await deps.store.notifications.list({ ...(query.state ? { state: query.state } : {}), limit: LIST_LIMIT });
    return { status: 200, body: { deliveries: deliveries.map(deliveryView) } };
  }),
];
