// How often the backends purge expired used-assertion ids: a cheap indexed delete folded into an insert at
// most this often, the same cadence for every backend so all answer identically around expiry.
export const ASSERTION_PURGE_INTERVAL_MS = 60_000;
