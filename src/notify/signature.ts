// X-Epochgate-Signature (SPEC §18): `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The time is
// inside the MAC so a receiver can refuse an old delivery replayed to it; the body is signed exactly as sent.
import { createHmac } from 'node:crypto';

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}
