// A parsed message for tests that start after the parsers (pairing, the wire to the worker): the
// fields a parser fills, with plain defaults (no headers, no body) that each test overrides.

import type { Message } from '../../src/types.js';

export function message(o: Partial<Message> & Pick<Message, 'kind' | 'frame'>): Message {
  const body = o.body ?? Buffer.alloc(0);
  return {
    protocol: 'http',
    firstFrame: o.frame,
    time: { sec: 1_700_000_000, nsec: 123_456_000, digits: 6 },
    firstTime: { sec: 1_700_000_000, nsec: 100_000_000, digits: 6 },
    version: 'HTTP/1.1',
    headers: [],
    bodyLength: body.length,
    decodedBody: body,
    bodyTruncated: false,
    incomplete: false,
    anomalies: [],
    ...o,
    body,
  };
}
