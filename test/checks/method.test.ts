// method.get-not-post: GET refused where POST is accepted, GET with credentials in the query;
// healthy REST (GET with a query and POST both accepted) stays quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Capture, run, byCode } from './builder.js';

const OK = 'HTTP/1.1 200 OK\n\nID: 1';

test('GET answered 401 where POSTs to the same path succeed (accepted POST later in the capture)', () => {
  const cap = new Capture();
  const get = cap.add('GET /customerabc/customerabc.sms?user=customerabc&password=pw&to=49123&text=hi HTTP/1.1\nHost: messaging.sybase365.com\n\n', 'HTTP/1.1 401 Unauthorized\n\n');
  const post = cap.add('POST /customerabc/customerabc.sms HTTP/1.1\nHost: messaging.sybase365.com\nContent-Type: application/x-www-form-urlencoded\n\nuser=customerabc&password=pw&to=49123&text=hi', OK);
  const { findings } = run(cap);
  const f = byCode(findings, 'method.get-not-post');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'error');
  assert.equal(f[0].exchange, get.exchange.id);
  assert.equal(f[0].evidence['reason'], 'post-accepted');
  assert.deepEqual(f[0].evidence['queryCredentialFields'], ['user', 'password']);
  assert.ok(f[0].frames.includes(post.exchange.request.frame), 'shows the accepted POST too');
  assert.match(f[0].message, /POST/);
  assert.ok(!f[0].message.includes('pw&'));
});

test('GET with credentials in the query refused, no POST seen -> query-credentials', () => {
  const cap = new Capture();
  cap.add('GET /send?username=bob&pwd=x1&msg=hello HTTP/1.1\nHost: gw\n\n', 'HTTP/1.1 405 Method Not Allowed\nAllow: POST\n\n');
  const f = byCode(run(cap).findings, 'method.get-not-post');
  assert.equal(f.length, 1);
  assert.equal(f[0].evidence['reason'], 'query-credentials');
});

test('REST: GET with a query and POST on the same path, both accepted -> nothing', () => {
  const cap = new Capture();
  cap.add('GET /items?page=2 HTTP/1.1\nHost: h\n\n', OK);
  cap.add('POST /items HTTP/1.1\nHost: h\nContent-Type: application/json\n\n{"a":1}', 'HTTP/1.1 201 Created\n\n');
  cap.add('GET /search?key=abc HTTP/1.1\nHost: h\n\n', OK);
  assert.equal(byCode(run(cap).findings, 'method.get-not-post').length, 0);
});
