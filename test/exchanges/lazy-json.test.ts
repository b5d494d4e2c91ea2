// The two-thread front end builds exchanges with lazyJson: their request/response JSON forms are made
// on first read. Whatever reads them (spread, structuredClone, JSON.stringify, assignment) must see
// exactly what the eager builder gives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exchange, Message } from '../../src/types.js';
import { ExchangeBuilder } from '../../src/exchanges/builder.js';

function message(o: Partial<Message> & Pick<Message, 'kind' | 'frame'>): Message {
  const body = o.body ?? Buffer.from('a=1');
  return {
    protocol: 'http',
    firstFrame: o.frame,
    time: { sec: 1_700_000_000, nsec: 123_456_000, digits: 6 },
    firstTime: { sec: 1_700_000_000, nsec: 100_000_000, digits: 6 },
    version: 'HTTP/1.1',
    headers: [['Host', 'h'], ['Authorization', 'Basic YTpi']],
    bodyLength: body.length,
    decodedBody: body,
    bodyTruncated: false,
    incomplete: false,
    anomalies: [],
    ...o,
    body,
  };
}

function build(lazyJson: boolean): Exchange[] {
  const out: Exchange[] = [];
  const b = new ExchangeBuilder({ onExchange: (c) => out.push(c.exchange), onUnpaired: () => undefined }, { lazyJson });
  const path = { transport: 'tcp' as const, stream: 4, clientIp: '192.0.2.1', clientPort: 5000, serverIp: '192.0.2.9', serverPort: 80 };
  b.httpRequest(path, message({ kind: 'request', frame: 3, method: 'POST', uri: '/login?x=1' }));
  b.httpResponse(path, message({ kind: 'response', frame: 5, status: 100, reason: 'Continue' }));
  b.httpResponse(path, message({ kind: 'response', frame: 6, status: 401, reason: 'Unauthorized', incomplete: true }));
  b.httpRequest(path, message({ kind: 'request', frame: 8, method: 'GET', uri: '/' }));
  b.closeStream(4);
  return out;
}

test('lazy JSON forms read, spread, clone and serialise exactly like eager ones', () => {
  const eager = build(false);
  const lazy = build(true);
  assert.equal(lazy.length, 2);
  assert.equal(lazy[1].response, null, 'the unanswered request');
  for (let i = 0; i < eager.length; i++) {
    assert.deepEqual(Object.keys(lazy[i]), Object.keys(eager[i]), 'same keys in the same order');
    assert.equal(JSON.stringify(lazy[i]), JSON.stringify(eager[i]));
    assert.deepStrictEqual(structuredClone(lazy[i]), eager[i]);
    assert.deepStrictEqual({ ...lazy[i] }, eager[i]);
    // Read twice: the same object (made once).
    assert.equal(lazy[i].request, lazy[i].request);
  }
  // Assigned forms replace the made ones, as on a plain object.
  const x = lazy[0];
  x.request = { ...x.request, uri: '/other' };
  assert.equal(x.request.uri, '/other');
  x.response = null;
  assert.equal(x.response, null);
});
