// SIGHUP for signing keys (SPEC §17): re-read the `tokens.keys` file, publish its public keys, then let its
// newest key sign — no restart. A file that cannot be read or validated keeps the last good key set in
// force (the failure is audited as key.reload_failed and logged); only a missing key set at start is fatal.
// The file is read, never created here: a file that vanished is an operator's mistake to report, and a
// fresh key written in its place would hide it.
import type { Logger } from 'pino';
import { isGatewayError } from '../errors/gateway-error.js';
import { SYSTEM_ACTOR } from '../audit/envelope.js';
import type { AuditLog } from '../audit/types.js';
import type { Clock } from '../util/clock.js';
import type { KeyRing } from './key-ring.js';
import { readSigningKeys } from './signing-keys.js';

export interface KeyReloadDeps {
  readonly ring: KeyRing;
  readonly path: string;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** True when the file's key set is now in force (published, newest key signing). */
export async function reloadSigningKeys(deps: KeyReloadDeps): Promise<boolean> {
  const { ring, audit, logger, clock } = deps;
  const before = ring.current().signingKey.kid;
  try {
    const keys = await readSigningKeys(deps.path);
    await ring.load(keys);
  } catch (err) {
    // Messages of the key file loader name the file and the problem, never key material.
    const message = (err as Error).message;
    // A store that cannot take the publication is store_unavailable; anything else is the file's fault.
    const status = isGatewayError(err) ? err.code : 'keys_invalid';
    audit.write({ event: 'key.reload_failed', time: clock.now(), status, detail: message, actor: SYSTEM_ACTOR });
    logger.error({ error: message }, 'signing key reload failed; the last good key set stays in force');
    return false;
  }
  const current = ring.current();
  const extra = { signing_kid: current.signingKey.kid, previous_signing_kid: before, keys: current.jwks().keys.length };
  audit.write({ event: 'key.load', time: clock.now(), status: 'ok', actor: SYSTEM_ACTOR, extra });
  logger.info(extra, 'signing keys reloaded');
  return true;
}
