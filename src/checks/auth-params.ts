// Tokenizer for the auth-param lists of WWW-Authenticate / Proxy-Authenticate / Authorization
// (RFC 9110 §11): several challenges in one value, quoted strings with commas and escapes,
// token68 values (NTLM/Negotiate/Bearer blobs). Parameter names come back lower case.

export interface AuthItem {
  /** Scheme as sent ('' when a parameter came before any scheme). */
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

// Character classes by char code (hot: every Authorization and WWW-Authenticate value goes through here).
const WS_TABLE = new Uint8Array(128);
for (const c of ' \t\r\n') WS_TABLE[c.charCodeAt(0)] = 1;
// tchar plus '/' (token68 allows it); '=' handled separately.
const TOKEN_TABLE = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~/") TOKEN_TABLE[c.charCodeAt(0)] = 1;
const COMMA = 0x2c;
const EQ = 0x3d;
const DQUOTE = 0x22;

function isWs(c: number): boolean {
  return c < 128 && WS_TABLE[c] === 1;
}

function isToken(c: number): boolean {
  return c < 128 && TOKEN_TABLE[c] === 1;
}

/** Splits an auth header value into schemes with their parameters or token68. Never throws. */
export function parseAuthItems(s: string): AuthItem[] {
  const out: AuthItem[] = [];
  let cur: AuthItem | null = null;
  let justScheme = false;
  let i = 0;
  const n = s.length;
  while (i < n) {
    let sawComma = false;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === COMMA) sawComma = true;
      else if (!isWs(c)) break;
    }
    if (i >= n) break;
    if (sawComma) justScheme = false;
    const start = i;
    while (i < n && isToken(s.charCodeAt(i))) i++;
    if (i === start) {
      // Stray character (a quote or separator out of place): skip a quoted string whole, else one char.
      if (s.charCodeAt(i) === DQUOTE) i = readQuoted(s, i).end;
      else i++;
      justScheme = false;
      continue;
    }
    const tok = s.slice(start, i);
    let j = i;
    while (j < n && isWs(s.charCodeAt(j))) j++;
    if (j < n && s.charCodeAt(j) === EQ) {
      if (j === i && justScheme && cur) {
        // token68 with '=' padding: "Negotiate YIIabc==" followed by end or comma.
        let k = i;
        while (k < n && s.charCodeAt(k) === EQ) k++;
        let m = k;
        while (m < n && isWs(s.charCodeAt(m))) m++;
        if (m >= n || s.charCodeAt(m) === COMMA) {
          cur.token68 = tok + s.slice(i, k);
          justScheme = false;
          i = k;
          continue;
        }
      }
      i = j + 1;
      while (i < n && isWs(s.charCodeAt(i))) i++;
      let value: string;
      if (i < n && s.charCodeAt(i) === DQUOTE) {
        const q = readQuoted(s, i);
        value = q.value;
        i = q.end;
      } else {
        const vs = i;
        for (; i < n; i++) {
          const c = s.charCodeAt(i);
          if (c === COMMA || isWs(c)) break;
        }
        value = s.slice(vs, i);
      }
      if (!cur) {
        cur = { scheme: '', params: {} };
        out.push(cur);
      }
      const name = tok.toLowerCase();
      if (!(name in cur.params)) cur.params[name] = value;
      justScheme = false;
    } else {
      if (justScheme && cur && !cur.token68 && (j >= n || s.charCodeAt(j) === COMMA)) {
        cur.token68 = tok;
        justScheme = false;
        i = j;
        continue;
      }
      cur = { scheme: tok, params: {} };
      out.push(cur);
      justScheme = true;
      i = j;
    }
  }
  return out;
}

/** Reads a quoted-string starting at s[i] === '"'; handles backslash escapes and a missing close quote. */
function readQuoted(s: string, i: number): { value: string; end: number } {
  let v = '';
  let from = i + 1;
  let k = from;
  const n = s.length;
  while (k < n) {
    const c = s.charCodeAt(k);
    if (c === 0x5c && k + 1 < n) {
      v += s.slice(from, k) + s[k + 1];
      k += 2;
      from = k;
      continue;
    }
    if (c === DQUOTE) return { value: v + s.slice(from, k), end: k + 1 };
    k++;
  }
  return { value: v + s.slice(from, k), end: k };
}
