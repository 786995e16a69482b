// The call fingerprint of SPEC §10: SHA-256 over method, normalised path, query and body (for MCP tools/call:
// the tool name and canonical arguments, never the JSON-RPC id). SPEC §9.1 defines the approval action
// digest over exactly the same facts, with the same care about canonicalising JSON only where that is
// lossless, so both use one implementation: a call matches a recorded one iff it is the same action.
import { actionDigest, type ActionFacts } from '../approvals/digest.js';

export type FingerprintFacts = ActionFacts;

export function callFingerprint(facts: FingerprintFacts): string {
  return actionDigest(facts);
}
