// HOST:PORT for `listen.data` / `listen.control` and the --listen-* flags (SPEC §2). IPv6 hosts are
// bracketed ("[::1]:8080"); the returned host has no brackets (what net.Server#listen expects).
import { isIPv6 } from 'node:net';
import type { ListenAddress } from './types.js';

// RFC 1123 host names and dotted IPv4, label by label.
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const PORT = /^\d{1,5}$/;

export type ListenResult = { readonly ok: true; readonly address: ListenAddress } | { readonly ok: false; readonly error: string };

const EXPECTED = 'must be HOST:PORT (IPv6 in brackets, e.g. "[::1]:8080"), port 0-65535';

export function parseListen(text: string): ListenResult {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return { ok: false, error: EXPECTED };
  const rawHost = text.slice(0, colon);
  const rawPort = text.slice(colon + 1);
  if (!PORT.test(rawPort) || Number(rawPort) > 65535) return { ok: false, error: EXPECTED };
  let host: string;
  if (rawHost.startsWith('[') && rawHost.endsWith(']')) {
    host = rawHost.slice(1, -1);
    if (!isIPv6(host)) return { ok: false, error: EXPECTED };
  } else {
    // An unbracketed IPv6 address would make the port ambiguous.
    if (!HOST_NAME.test(rawHost)) return { ok: false, error: EXPECTED };
    host = rawHost;
  }
  return { ok: true, address: { host, port: Number(rawPort) } };
}
