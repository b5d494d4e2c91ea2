// `authcap follow <capture> --stream N`: one TCP conversation's messages in order, like
// Wireshark's Follow TCP Stream, with secrets redacted, wire text escaped and long bodies cut.

import { REDACTED, SecretSet, isSecretField, redactHeaderValue, redactQueryText, redactUri, redactValue } from './redact.js';
import { bytesToText, printable, printableLines } from './sanitize.js';

export interface FollowMessage {
  dir: 'client' | 'server';
  frame: number;
  time: string;
  startLine: string;
  headers: [string, string][];
  body: Buffer;
  bodyLength: number;
  incomplete: boolean;
}

export interface FollowOptions {
  color: boolean;
  showSecrets: boolean;
  maxBody: number;
}

const CLIENT_COLOR = '31'; // Wireshark: client red, server blue
const SERVER_COLOR = '34';

/** Bytes that make a body "binary": controls other than TAB/LF/CR, beyond a few (a trailing NUL is still text). */
function isBinary(b: Buffer): boolean {
  let ctl = 0;
  for (const c of b) if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) ctl++;
  return ctl > Math.max(4, b.length / 20);
}

/** A hex dump in the form of `xxd`/Wireshark's hex view: offset, 16 bytes, printable ASCII. */
export function hexDump(b: Buffer): string[] {
  const lines: string[] = [];
  for (let off = 0; off < b.length; off += 16) {
    const row = b.subarray(off, off + 16);
    const hex = [...row].map((c) => c.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines;
}

const FORM_BODY = /^[^\s=&]+=[^\s&]*(&[^\s=&]*=?[^\s&]*)*[\r\n\x00]*$/;

/**
 * Secret-named fields in a text body: form pairs (urlencoded bodies only), JSON "name": "value",
 * XML <password>value</password> and <item key="password">value</item>.
 */
function redactBodyText(text: string, contentType: string, secrets: SecretSet): string {
  let t = text;
  if (/x-www-form-urlencoded/i.test(contentType) || FORM_BODY.test(t)) t = redactQueryText(t, secrets);
  t = t.replace(/("([^"\\]+)"\s*:\s*)"((?:[^"\\]|\\.)*)"/g, (m, pre: string, name: string, value: string) => {
    if (!isSecretField(name) || value === '') return m;
    secrets.add(value);
    return `${pre}"${redactValue(value)}"`;
  });
  t = t.replace(/<([A-Za-z_][\w.-]*)>([^<]*)<\/\1>/g, (m, name: string, value: string) => {
    if (!isSecretField(name) || value.trim() === '') return m;
    secrets.add(value);
    return `<${name}>${redactValue(value)}</${name}>`;
  });
  t = t.replace(/(<([A-Za-z_][\w.-]*)\b[^<>]*?\b(?:key|name)\s*=\s*["']([^"'<>]+)["'][^<>]*>)([^<]*)(<\/\2>)/g,
    (m, open: string, _tag: string, name: string, value: string, close: string) => {
      if (!isSecretField(name) || value.trim() === '') return m;
      secrets.add(value);
      return `${open}${redactValue(value)}${close}`;
    });
  return t;
}

function redactStartLine(line: string, secrets: SecretSet): string {
  // request line: METHOD SP URI SP VERSION; status lines have no query to redact
  const m = /^(\S+) (\S+)( .*)?$/.exec(line);
  if (!m || /^(HTTP|SIP)\//i.test(m[1])) return line;
  return `${m[1]} ${redactUri(m[2], secrets)}${m[3] ?? ''}`;
}

/** Render one followed stream. Headers (and secret fields in bodies) are redacted unless showSecrets. */
export function renderFollow(stream: number, client: string, server: string, messages: FollowMessage[], o: FollowOptions): string {
  const paint = (code: string, s: string) => (o.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const secrets = new SecretSet();
  const rule = '='.repeat(66);
  const out: string[] = [rule, `Follow: tcp,ascii  stream ${stream}`, `Node 0: ${printable(client)}`, `Node 1: ${printable(server)}`, rule];
  let nClient = 0;
  let nServer = 0;
  // Redact headers of all messages first so secrets they carry are known when bodies are scrubbed.
  const heads = messages.map((m) => ({
    start: o.showSecrets ? m.startLine : redactStartLine(m.startLine, secrets),
    headers: o.showSecrets ? m.headers : m.headers.map(([n, v]) => [n, redactHeaderValue(n, v, secrets)] as [string, string]),
  }));
  messages.forEach((m, i) => {
    if (m.dir === 'client') nClient++;
    else nServer++;
    const color = m.dir === 'client' ? CLIENT_COLOR : SERVER_COLOR;
    const who = m.dir === 'client' ? `client ${printable(client)}` : `server ${printable(server)}`;
    const lines: string[] = [];
    lines.push(paint('1', `${m.dir === 'client' ? '>>>' : '<<<'} ${who}  frame ${m.frame}  ${printable(m.time)}${m.incomplete ? '  [incomplete: part of this message was not captured]' : ''}`));
    const body: string[] = [printable(heads[i].start), ...heads[i].headers.map(([n, v]) => `${printable(n)}: ${printable(v)}`), ''];
    const shown = m.body.subarray(0, Math.max(0, o.maxBody));
    if (shown.length > 0) {
      if (isBinary(shown)) {
        body.push(`[binary body, ${m.bodyLength} bytes; hex dump of the first ${shown.length}]`, ...hexDump(shown));
      } else {
        let text = bytesToText(shown);
        if (!o.showSecrets) {
          const ct = m.headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? '';
          text = secrets.scrub(redactBodyText(text, ct, secrets));
        }
        body.push(...printableLines(text).split('\n'));
      }
    }
    const more = m.bodyLength - shown.length;
    if (more > 0) body.push(`... (${more} more bytes)`);
    lines.push(...body.map((l) => paint(color, l)));
    out.push(...lines, '');
  });
  out.push(rule, `${nClient} client message${nClient === 1 ? '' : 's'}, ${nServer} server message${nServer === 1 ? '' : 's'}${o.showSecrets ? '' : `; secrets shown as ${REDACTED} (use --show-secrets to see them)`}`, rule);
  return `${out.join('\n')}\n`;
}
