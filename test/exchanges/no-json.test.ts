// The two-thread front end builds exchanges with noJson: the worker makes the request/response JSON
// forms from the messages, so the front end hands on everything else exactly as the eager builder does
// and makes no forms (a frozen placeholder request, no response form).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExchangeContext, Message } from '../../src/types.js';
import { ExchangeBuilder, toRequestJson, toResponseJson } from '../../src/exchanges/builder.js';
import { message as bareMessage } from '../lib/message.js';

/** A message with a small form body and two headers. */
function message(o: Partial<Message> & Pick<Message, 'kind' | 'frame'>): Message {
  return bareMessage({ headers: [['Host', 'h'], ['Authorization', 'Basic YTpi']], body: Buffer.from('a=1'), ...o });
}

function build(noJson: boolean): ExchangeContext[] {
  const out: ExchangeContext[] = [];
  const b = new ExchangeBuilder({ onExchange: (c) => out.push(c), onUnpaired: () => undefined }, { noJson });
  const path = { transport: 'tcp' as const, stream: 4, clientIp: '192.0.2.1', clientPort: 5000, serverIp: '192.0.2.9', serverPort: 80 };
  b.httpRequest(path, message({ kind: 'request', frame: 3, method: 'POST', uri: '/login?x=1' }));
  b.httpResponse(path, message({ kind: 'response', frame: 5, status: 100, reason: 'Continue' }));
  b.httpResponse(path, message({ kind: 'response', frame: 6, status: 401, reason: 'Unauthorized', incomplete: true }));
  b.httpRequest(path, message({ kind: 'request', frame: 8, method: 'GET', uri: '/' }));
  b.closeStream(4);
  return out;
}

test('noJson: the same exchanges and messages, without the JSON forms', () => {
  const eager = build(false);
  const bare = build(true);
  assert.equal(bare.length, 2);
  for (let i = 0; i < eager.length; i++) {
    const { request: er, response: eres, ...eRest } = eager[i].exchange;
    const { request: br, response: bres, ...bRest } = bare[i].exchange;
    assert.deepStrictEqual(bRest, eRest, 'ids, stream, endpoints, transport, interim');
    assert.equal(bres, null);
    assert.ok(Object.isFrozen(br) && br.frame === -1, 'a placeholder that is obviously not a request');
    assert.deepStrictEqual({ ...bare[i], exchange: null }, { ...eager[i], exchange: null }, 'the messages and addresses');
    // What the worker makes from the messages is what the eager builder made.
    assert.deepStrictEqual(toRequestJson(bare[i].req), er);
    assert.deepStrictEqual(bare[i].res ? toResponseJson(bare[i].res!) : null, eres);
  }
  assert.deepEqual(bare[0].exchange.interim, [{ frame: 5, status: 100 }]);
});
