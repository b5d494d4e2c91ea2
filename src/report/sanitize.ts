// Terminal and document safety for strings that came off the wire: control characters, escape
// sequences, C1 controls and bidi/invisible format characters are shown escaped, never emitted.

/**
 * Characters that are shown escaped. C0 controls, DEL, C1 controls, the backslash (so an escaped
 * "\x1b" cannot be confused with one that was on the wire), and Unicode format characters that
 * reorder or hide text: bidi embeddings/overrides/isolates, LRM/RLM/ALM, zero-width characters,
 * line/paragraph separators, BOM, interlinear annotation marks, and lone surrogates.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\\\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Same set minus LF and TAB (for multi-line text such as bodies in the follow view). */
// eslint-disable-next-line no-control-regex
const UNSAFE_KEEP_LINES = /[\x00-\x08\x0b-\x1f\x7f-\x9f\\\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\' };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * One-line safe text: every control or format character is replaced by a visible escape
 * (ESC -> "\x1b", CR -> "\r", U+202E -> "\u202e", "\" -> "\\"). Printable text is unchanged.
 */
export function printable(s: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE, escapeChar);
}

/**
 * Multi-line safe text: like printable() but LF and TAB are kept; a CR just before an LF is
 * dropped (CRLF line ends read as plain line ends), any other CR is escaped.
 */
export function printableLines(s: string): string {
  return s.replace(/\r\n/g, '\n').replace(UNSAFE_KEEP_LINES, escapeChar);
}

/** Bytes as text: UTF-8 when the bytes are valid UTF-8, otherwise Latin-1 (one character per byte). */
export function bytesToText(b: Buffer): string {
  const utf8 = b.toString('utf8');
  if (!utf8.includes('\ufffd') || Buffer.from(utf8, 'utf8').equals(b)) return utf8;
  return b.toString('latin1');
}

/** Escape for HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/**
 * JSON text in which characters JSON.stringify leaves raw but a terminal or viewer would act on
 * (DEL, C1 controls, bidi and invisible format characters) are written as \uXXXX escapes. The
 * result parses back to the same value.
 */
export function safeJson(value: unknown, indent = 2): string {
  return safeJsonText(JSON.stringify(value, null, indent) ?? 'null');
}

/** The escapes safeJson adds, applied to JSON text JSON.stringify produced. */
export function safeJsonText(text: string): string {
  return text.replace(/[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * One string as safeJson would write it (the same bytes as safeJson(s)); printable ASCII without
 * a quote or a backslash, the usual case, is written without JSON.stringify or a regex.
 */
export function safeJsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return safeJsonText(JSON.stringify(s));
  }
  return `"${s}"`;
}
