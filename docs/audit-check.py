#!/usr/bin/env python3
"""Independent checker for epochgate audit files: hash chain, signed anchors, stored anchors.

Usage: audit-check.py FILE... --jwks JWKS.json [--db epochgate.db]
Needs Python 3.9+ and the `cryptography` package (for Ed25519). Exit 0 ok, 1 a finding.
"""
import argparse, base64, hashlib, json, re, sqlite3, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TAIL = re.compile(r'"hash":"([0-9a-f]{64})"\}\}\}\}$')
b64 = lambda s: base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))

def jws_problem(jws, keys, anchor):
    try:
        h, p, sig = jws.split('.')
        header, payload = json.loads(b64(h)), json.loads(b64(p))
    except Exception:
        return 'not a compact JWS'
    if header.get('alg') != 'EdDSA' or header.get('typ') != 'epochgate-anchor+jwt': return 'not an anchor header'
    key = keys.get(header.get('kid'))
    if key is None: return f'unknown kid {header.get("kid")}'
    try: key.verify(b64(sig), f'{h}.{p}'.encode('ascii'))
    except Exception: return 'bad signature'
    if any(payload.get(k) != anchor[k] for k in ('chain_uid', 'sequence', 'hash')): return 'payload differs'
    return None

def check_file(path, keys, chains, stored, out):
    prev, last = '0' * 64, None
    with open(path, encoding='utf-8', newline='\n') as f:
        for n, line in enumerate(f, 1):
            if not line.endswith('\n'): return out(f'{path}:{n}: truncated')
            line = line[:-1]
            m = TAIL.search(line)
            if not m: return out(f'{path}:{n}: not a sealed record')
            rec = json.loads(line)
            eg, seq = rec['unmapped']['epochgate'], rec['metadata']['sequence']
            chain = eg['chain']
            unsealed = line[:m.start()] + '"hash":""}}}}'
            if hashlib.sha256(f'{chain["prev_hash"]}\n{unsealed}'.encode()).hexdigest() != m.group(1):
                return out(f'{path}:{n}: changed')
            if chain['prev_hash'] != prev: return out(f'{path}:{n}: removed, inserted or reordered')
            if eg['event'] == 'audit.anchor':
                a = eg['anchor']
                if last is None or (a['chain_uid'], a['sequence'], a['hash']) != last: out(f'{path}:{n}: anchor_mismatch')
                elif (why := jws_problem(a['jws'], keys, a)): out(f'{path}:{n}: anchor_forged: {why}')
            c = chains.setdefault(chain['uid'], {'path': path, 'first': rec['time']})
            c.update(last=seq, line=n)
            if chain['uid'] in stored and stored[chain['uid']][0] == seq: c['at_anchor'] = (m.group(1), n)
            prev, last = m.group(1), (chain['uid'], seq, m.group(1))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('files', nargs='+'); ap.add_argument('--jwks', required=True); ap.add_argument('--db')
    args = ap.parse_args()
    keys = {k['kid']: Ed25519PublicKey.from_public_bytes(b64(k['x'])) for k in json.load(open(args.jwks))['keys'] if k.get('crv') == 'Ed25519'}
    findings, chains, rows = [], {}, []
    if args.db:  # read the store before the files: a running gateway keeps anchoring
        db = sqlite3.connect(f'file:{args.db}?mode=ro', uri=True)
        rows = db.execute('SELECT chain_uid, max(sequence), hash, jws, created_at FROM anchors GROUP BY chain_uid').fetchall()
    stored = {uid: (seq, h) for uid, seq, h, _, _ in rows}
    for path in args.files: check_file(path, keys, chains, stored, findings.append)
    if args.db:
        since = min((c['first'] for c in chains.values()), default=0)
        for uid, seq, h, jws, created in rows:
            if (why := jws_problem(jws, keys, {'chain_uid': uid, 'sequence': seq, 'hash': h})): findings.append(f'{args.db}: anchor_forged: {uid} {seq}: {why}')
            elif uid not in chains:
                if created > since: findings.append(f'{args.db}: removed_chain: {uid} anchored at sequence {seq}')
            elif chains[uid]['last'] >= seq + 1 and chains[uid].get('at_anchor', ('',))[0] != h:
                findings.append(f'{chains[uid]["path"]}: anchor_mismatch: {uid} sequence {seq} is not the anchored record')
            elif chains[uid]['last'] < seq + 1: findings.append(f'{chains[uid]["path"]}:{chains[uid]["line"]}: cut_tail: {uid} ends at {chains[uid]["last"]}, stored anchor at {seq}')
    for f in findings: print(f)
    if findings: sys.exit(1)
    print('ok')

if __name__ == '__main__':
    main()
