// The signed statement inside an audit.anchor record (SPEC §13 "Anchors"): a compact JWS (RFC 7515 §7.1),
// EdDSA over Ed25519 (RFC 8037), header {alg, typ, kid}, payload {chain_uid, sequence, hash, iat}.
//
// Signed synchronously with node:crypto rather than jose's (async) CompactSign: the gateway reads the
// chain head, signs and writes the anchor record in one synchronous step, so no other record can be
// written between the record the anchor covers and the anchor record itself. Verification uses jose.
import { sign, type KeyObject } from 'node:crypto';

/** typ of an anchor JWS: never at+jwt, so an anchor can never pass as a session token (SPEC §6 step 2). */
export const ANCHOR_JWS_TYP = 'epochgate-anchor+jwt';

export interface AnchorPayload {
  readonly chain_uid: string;
  readonly sequence: number;
  readonly hash: string;
  /** Seconds since the epoch, when the anchor was made. */
  readonly iat: number;
}

export interface AnchorSigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

export function signAnchor(payload: AnchorPayload, key: AnchorSigningKey): string {
  const header = b64url(JSON.stringify({ alg: 'EdDSA', typ: ANCHOR_JWS_TYP, kid: key.kid }));
  // Members in a fixed order, so the same anchor always gives the same bytes.
  const body = b64url(
    JSON.stringify({ chain_uid: payload.chain_uid, sequence: payload.sequence, hash: payload.hash, iat: payload.iat }),
  );
  const input = `${header}.${body}`;
  // Ed25519 takes no separate digest: the algorithm argument is null (RFC 8032 PureEdDSA).
  const signature = sign(null, Buffer.from(input, 'ascii'), key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
