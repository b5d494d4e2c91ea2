// The OpenSRS sample for samples/: the XML API over TLS on port 55443, a POST whose XML body ends in a
// NUL, answered 401. One real TLS 1.2 session (AES128-SHA, the suite in the OpenSRS article) made by
// Node's tls on loopback and written as a pcap, with its key log. TLS is randomised: not byte-reproducible.

import { constants } from 'node:crypto';
import { opensrsRequest, runTls, toPcap, unauthorizedResponse } from './live.js';

export interface OpensrsTlsSampleOptions {
  client?: string;
  server?: string;
  /** Capture start, seconds since the epoch. */
  time?: number;
}

export async function opensrsTlsSample(o: OpensrsTlsSampleOptions = {}): Promise<{ pcap: Buffer; keylog: string }> {
  const r = await runTls({
    ciphers: 'AES128-SHA',
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    serverSecureOptions: constants.SSL_OP_NO_ENCRYPT_THEN_MAC,
    servername: 'rr-n1-tor.opensrs.net',
    request: opensrsRequest('rr-n1-tor.opensrs.net:55443'),
    response: unauthorizedResponse(),
  });
  if (r.error) throw new Error(`TLS session for the sample failed: ${r.error}`);
  const { pcap } = toPcap(r.records, {
    client: o.client ?? '203.0.113.50:51234',
    server: o.server ?? '198.51.100.39:55443',
    time: o.time ?? 1_456_503_963,
  });
  return { pcap, keylog: r.keylog };
}
