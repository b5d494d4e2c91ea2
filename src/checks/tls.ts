// TLS checks over one connection's TLS events: reset/close right after the ClientHello (IP allow-list,
// firewall), alerts during the handshake, traffic left encrypted (one finding per server name), and,
// when a key log was given, connections that could not be decrypted and why.

import type { Finding, TcpConnectionSummary } from '../types.js';
import { endpointText } from '../types.js';
import type { TlsEvent } from '../protocols/tls/connection.js';

export const KEYLOG_HINT =
  'Capture the TLS keys where the client runs: set SSLKEYLOGFILE=/path/keys.txt for the client (curl, Firefox, ' +
  'Chrome, Python 3.8+, Go with tls.Config.KeyLogWriter, Node with --tls-keylog=/path/keys.txt; Java needs an agent ' +
  'such as jSSLKeyLog), reproduce the request, then run authcap with --keylog /path/keys.txt (or embed the keys in ' +
  'the capture with editcap --inject-secrets tls,keys.txt).';

/** Streams listed per grouped finding at most. */
const MAX_STREAMS = 50;

type Alert = Extract<TlsEvent, { type: 'alert' }>;

const ALERT_HINTS: Record<string, { server: string; client: string }> = {
  handshake_failure: {
    server: 'the server found no acceptable parameters: no common cipher suite or TLS version, or it requires a client certificate',
    client: 'the client found no acceptable parameters in the ServerHello (cipher suite, version or signature algorithm)',
  },
  protocol_version: {
    server: 'the server does not support any TLS version the client offered (e.g. a client limited to TLS 1.0/1.1)',
    client: 'the client does not accept the TLS version the server chose',
  },
  insufficient_security: {
    server: 'the server requires stronger cipher suites than the client offered',
    client: 'the client requires stronger cipher suites than the server chose',
  },
  unrecognized_name: {
    server: 'the server does not know the host name sent in SNI: check the URL host name',
    client: 'the client did not accept the server name',
  },
  certificate_required: {
    server: 'the server requires a client certificate and none was sent',
    client: 'a certificate was required',
  },
  unknown_ca: {
    server: 'the server does not trust the issuer of the client certificate',
    client: 'the client does not trust the issuer of the server certificate (missing intermediate or private CA)',
  },
  bad_certificate: {
    server: 'the server rejected the client certificate',
    client: 'the client rejected the server certificate',
  },
  certificate_expired: {
    server: 'the client certificate has expired',
    client: 'the server certificate has expired (or the client clock is wrong)',
  },
  certificate_unknown: {
    server: 'the server could not accept the client certificate',
    client: 'the client could not validate the server certificate (name mismatch, untrusted issuer)',
  },
  access_denied: {
    server: 'the server refused access: an access control such as an IP allow-list or a client certificate rule',
    client: 'the client refused access',
  },
  close_notify: {
    server: 'the server closed the TLS session before any application data was exchanged',
    client: 'the client closed the TLS session before any application data was exchanged',
  },
  decrypt_error: {
    server: 'a handshake signature or Finished check failed on the server',
    client: 'a handshake signature or Finished check failed on the client',
  },
  no_application_protocol: {
    server: 'the server supports none of the ALPN protocols offered (h2, http/1.1)',
    client: 'the client does not accept the ALPN protocol chosen',
  },
};

export interface TlsChecks {
  name: 'tls';
  connection(summary: TcpConnectionSummary, tls: { events: TlsEvent[]; decrypted: boolean }): Finding[];
  /** The grouped findings (tls.encrypted, tls.undecrypted): call once at the end. */
  finish(): Finding[];
}

interface Group {
  serverNames: Set<string>;
  servers: Set<string>;
  streams: number[];
  moreStreams: number;
  frames: number[];
  reasons: { stream: number; reason: string }[];
}

export function createTlsChecks(): TlsChecks {
  const encrypted = new Map<string, Group>();
  const undecrypted = new Map<string, Group>();

  function addTo(map: Map<string, Group>, key: string, sni: string | null, server: string, stream: number, frame: number | null, reason?: string): void {
    let g = map.get(key);
    if (!g) map.set(key, (g = { serverNames: new Set(), servers: new Set(), streams: [], moreStreams: 0, frames: [], reasons: [] }));
    if (sni) g.serverNames.add(sni);
    if (g.servers.size < MAX_STREAMS) g.servers.add(server);
    if (g.streams.length < MAX_STREAMS) {
      g.streams.push(stream);
      if (frame) g.frames.push(frame);
      if (reason) g.reasons.push({ stream, reason });
    } else g.moreStreams++;
  }

  return {
    name: 'tls',

    connection(summary, tls) {
      const out: Finding[] = [];
      const ev = tls.events;
      const server = endpointText(summary.server.ip, summary.server.port);
      const client = endpointText(summary.client.ip, summary.client.port);
      const ch = ev.find((e): e is Extract<TlsEvent, { type: 'client-hello' }> => e.type === 'client-hello');
      const sh = ev.find((e) => e.type === 'server-hello');
      const sni = ch?.sni ?? null;
      const who = `${server}${sni ? ` (SNI ${sni})` : ''}`;
      const alerts = ev.filter((e): e is Alert => e.type === 'alert');
      const firstApp = ev.reduce<number | null>((m, e) => (e.type === 'application-data' && (m === null || e.frame < m) ? e.frame : m), null);
      const filter = `tcp.stream eq ${summary.stream}`;

      // ---- reset / close after the ClientHello
      const serverAnswered = sh || alerts.some((a) => a.from === 'server') || ev.some((e) => e.type === 'malformed' && e.from === 'server');
      if (ch && !serverAnswered) {
        const closes = [
          ...summary.resets.filter((r) => r.from === 'server').map((r) => ({ ...r, how: 'rst' as const })),
          ...summary.fins.filter((f) => f.from === 'server').map((f) => ({ ...f, how: 'fin' as const })),
        ].filter((c) => c.frame > ch.frame).sort((a, b) => a.frame - b.frame);
        const c = closes[0];
        if (c) {
          const verb = c.how === 'rst' ? 'reset' : 'closed';
          const secs = c.time.sec - ch.time.sec + (c.time.nsec - ch.time.nsec) / 1e9;
          out.push({
            code: 'tls.reset-after-hello',
            severity: 'error',
            message:
              `${who} ${verb} the connection right after the TLS ClientHello (frame ${ch.frame}), without a ServerHello: ` +
              `typical of an IP allow-list or firewall refusing the client (the client sees "connection reset by peer", errno 104, ` +
              `e.g. openssl s_client's write:errno=104). Check that the client's public IP address is allow-listed ` +
              `(seen here as ${summary.client.ip}; behind NAT the public address differs).`,
            exchange: null,
            stream: summary.stream,
            frames: [ch.frame, c.frame],
            filter,
            evidence: {
              server, client, sni, how: c.how, clientHelloFrame: ch.frame, closeFrame: c.frame,
              secondsAfterHello: Math.round(secs * 1e6) / 1e6, clientIp: summary.client.ip,
            },
          });
        }
      }

      // ---- alerts during the handshake / before application data
      // alerts emitted before the first application data (event order: same-frame cases stay right)
      const appIdx = ev.findIndex((e) => e.type === 'application-data');
      const early = alerts.filter((a) => (a.level === 'fatal' && !sh) || appIdx < 0 || ev.indexOf(a) < appIdx);
      const a = early.find((x) => x.level === 'fatal') ?? early[0];
      if (a) {
        const hint = ALERT_HINTS[a.name]?.[a.from];
        const when = firstApp === null ? 'before any application data' : 'during the handshake';
        const desc = a.description >= 0 ? `${a.name} (${a.description})` : 'alert (encrypted, content unknown without keys)';
        out.push({
          code: 'tls.alert',
          severity: 'error',
          message: `the ${a.from} sent a ${a.level === 'unknown' ? '' : `${a.level} `}TLS ${desc} ${when} on the connection to ${who}, frame ${a.frame}` +
            (hint ? `: ${hint}.` : '.'),
          exchange: null,
          stream: summary.stream,
          frames: ch ? [ch.frame, a.frame].filter((f, i, l) => l.indexOf(f) === i).sort((x, y) => x - y) : [a.frame],
          filter,
          evidence: { name: a.name, description: a.description, level: a.level, from: a.from, encrypted: a.encrypted, server, sni },
        });
      }

      // ---- not decrypted
      const und = ev.find((e): e is Extract<TlsEvent, { type: 'undecryptable' }> => e.type === 'undecryptable');
      if (und) {
        const reasonKey = und.reason.replace(/[0-9a-f]{64}/g, '<random>').replace(/frame \d+/g, 'frame N').replace(/\d+ bytes/g, 'N bytes');
        addTo(undecrypted, `${sni ?? server}\u0000${reasonKey}`, sni, server, summary.stream, und.frame, und.reason);
      } else if (!tls.decrypted && firstApp !== null) {
        addTo(encrypted, sni ?? server, sni, server, summary.stream, ch?.frame ?? firstApp ?? summary.firstFrame);
      }
      return out;
    },

    finish() {
      const out: Finding[] = [];
      for (const g of encrypted.values()) {
        const names = [...g.serverNames];
        const target = names.length ? names.join(', ') : [...g.servers].join(', ');
        const n = g.streams.length + g.moreStreams;
        out.push({
          code: 'tls.encrypted',
          severity: 'info',
          message: `${n} TLS connection${n === 1 ? '' : 's'} to ${target} ${n === 1 ? 'is' : 'are'} encrypted: the HTTP requests inside cannot be checked without the session keys. ${KEYLOG_HINT}`,
          exchange: null,
          stream: g.streams.length === 1 ? g.streams[0] : null,
          frames: [...new Set(g.frames)].sort((x, y) => x - y),
          filter: groupFilter(g),
          evidence: { serverNames: names, servers: [...g.servers], streams: g.streams, moreStreams: g.moreStreams, hint: KEYLOG_HINT },
        });
      }
      for (const g of undecrypted.values()) {
        const names = [...g.serverNames];
        const target = names.length ? names.join(', ') : [...g.servers].join(', ');
        const n = g.streams.length + g.moreStreams;
        out.push({
          code: 'tls.undecrypted',
          severity: 'warning',
          message: `${n} TLS connection${n === 1 ? '' : 's'} to ${target} could not be decrypted with the key log: ${g.reasons[0]?.reason ?? 'unknown reason'}`,
          exchange: null,
          stream: g.streams.length === 1 ? g.streams[0] : null,
          frames: [...new Set(g.frames)].sort((x, y) => x - y),
          filter: groupFilter(g),
          evidence: { serverNames: names, servers: [...g.servers], streams: g.streams, moreStreams: g.moreStreams, reasons: g.reasons, reason: g.reasons[0]?.reason },
        });
      }
      encrypted.clear();
      undecrypted.clear();
      return out;
    },
  };
}

function groupFilter(g: Group): string {
  if (g.streams.length === 1 && g.moreStreams === 0) return `tcp.stream eq ${g.streams[0]}`;
  if (g.moreStreams === 0) return `tcp.stream in {${g.streams.join(' ')}}`;
  const names = [...g.serverNames];
  if (names.length === 1) return `tls.handshake.extensions_server_name == "${names[0].replace(/["\\]/g, '\\$&')}"`;
  return `tcp.stream in {${g.streams.join(' ')}}`;
}
