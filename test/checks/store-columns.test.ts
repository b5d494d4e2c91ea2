// The exchange summaries live in typed-array columns: what does not fit a column (times whose digits or
// nanoseconds do not pack, ids that are not "x<n>", SIP Call-IDs) goes to side maps and must read back
// exactly, and so must ordinary rows around them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanCredentials } from '../../src/checks/credentials.js';
import { ExchangeStore } from '../../src/checks/store.js';
import { Capture } from './builder.js';

test('summary rows: odd times, odd ids and null fields read back as recorded', () => {
  const cap = new Capture();
  const a = cap.add('GET /a HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 200 OK\n\n');
  const b = cap.add('GET /b HTTP/1.1\n\n', 'HTTP/1.1 401 No\n\n');
  const c = cap.add('GET /c HTTP/1.1\nHost: h2\n\n', null);
  const d = cap.add('GET /d HTTP/1.1\nHost: h\n\n', 'HTTP/1.1 204 None\n\n');
  // b: a request time whose digits do not pack, a response time with a fractional nanosecond.
  b.time = { sec: 1_700_000_100, nsec: 5, digits: 40 };
  b.req.time = b.time;
  b.res!.time = { sec: 1_700_000_101, nsec: 0.5, digits: 9 };
  // c: unanswered, with a non-"x<n>" id; d: an id past int32 stays text.
  c.exchange.id = 'custom-7';
  d.exchange.id = 'x99999999999';
  d.exchange.stream = null;
  const store = new ExchangeStore();
  const s = [a, b, c, d].map((ctx) => store.add(ctx, scanCredentials(ctx.req), false, []));
  assert.equal(store.size, 4);
  assert.deepEqual(s.map((x) => x.id), [a.exchange.id, b.exchange.id, 'custom-7', 'x99999999999']);
  assert.deepEqual(s[1].time, { sec: 1_700_000_100, nsec: 5, digits: 40 });
  assert.deepEqual(s[1].resTime, { sec: 1_700_000_101, nsec: 0.5, digits: 9 });
  assert.deepEqual(s[0].time, a.time);
  assert.deepEqual(s[0].resTime, a.res!.time);
  assert.equal(s[2].resTime, null);
  assert.equal(s[2].resFrame, null);
  assert.deepEqual(s[3].time, d.time);
  assert.equal(s[3].stream, null);
  assert.deepEqual(s.map((x) => x.host), ['h', null, 'h2', 'h']);
  assert.deepEqual(s.map((x) => x.status), [200, 401, null, 204]);
  // Equal strings are one interned value; the views made later (list) read the same rows.
  assert.equal(store.list[3].host, store.list[0].host);
  assert.deepEqual(store.list.map((x) => x.path), ['/a', '/b', '/c', '/d']);
  assert.ok(s[0].compareEventTime(s[1]) < 0 && s[1].compareEventTime(s[0]) > 0);
});
