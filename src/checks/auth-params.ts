// Tokenizer for the auth-param lists of WWW-Authenticate / Proxy-Authenticate / Authorization
// (RFC 9110 §11): several challenges in one value, quoted strings with commas and escapes,
// token68 values (NTLM/Negotiate/Bearer blobs). Parameter names come back lower case.

export interface AuthItem {
  /** Scheme as sent ('' when a parameter came before any scheme). */
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

const WS = new Set([' ', '\t', '\r', '\n']);
// tchar plus '/' (token68 allows it); '=' handled separately.
const TOKEN_CHAR = /[A-Za-z0-9!#$%&'*+\-.^_`|~/]/;

/** Splits an auth header value into schemes with their parameters or token68. Never throws. */
export function parseAuthItems(s: string): AuthItem[] {
  const out: AuthItem[] = [];
  let cur: AuthItem | null = null;
  let justScheme = false;
  let i = 0;
  const n = s.length;
  while (i < n) {
    let sawComma = false;
    while (i < n && (WS.has(s[i]) || s[i] === ',')) {
      if (s[i] === ',') sawComma = true;
      i++;
    }
    if (i >= n) break;
    if (sawComma) justScheme = false;
    const start = i;
    while (i < n && TOKEN_CHAR.test(s[i])) i++;
    const tok = s.slice(start, i);
    if (!tok) {
      // Stray character (a quote or separator out of place): skip a quoted string whole, else one char.
      if (s[i] === '"') i = readQuoted(s, i).end;
      else i++;
      justScheme = false;
      continue;
    }
    let j = i;
    while (j < n && WS.has(s[j])) j++;
    if (s[j] === '=') {
      if (j === i && justScheme && cur) {
        // token68 with '=' padding: "Negotiate YIIabc==" followed by end or comma.
        let k = i;
        while (k < n && s[k] === '=') k++;
        let m = k;
        while (m < n && WS.has(s[m])) m++;
        if (m >= n || s[m] === ',') {
          cur.token68 = tok + s.slice(i, k);
          justScheme = false;
          i = k;
          continue;
        }
      }
      i = j + 1;
      while (i < n && WS.has(s[i])) i++;
      let value: string;
      if (s[i] === '"') {
        const q = readQuoted(s, i);
        value = q.value;
        i = q.end;
      } else {
        const vs = i;
        while (i < n && s[i] !== ',' && !WS.has(s[i])) i++;
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
      if (justScheme && cur && !cur.token68 && (j >= n || s[j] === ',')) {
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
  let k = i + 1;
  while (k < s.length) {
    const c = s[k];
    if (c === '\\' && k + 1 < s.length) {
      v += s[k + 1];
      k += 2;
      continue;
    }
    if (c === '"') return { value: v, end: k + 1 };
    v += c;
    k++;
  }
  return { value: v, end: k };
}
