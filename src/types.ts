// Types shared by the pipeline stages. Each stage imports only the types of the stages before it:
//   capture -> decode -> flows -> protocols -> exchanges -> checks -> report
// The JSON shapes (Exchange, Finding, Report) are the contract in REPORT.md: fields may be added,
// never renamed.

// ---------------------------------------------------------------- time

/** A capture timestamp at the capture's own precision. */
export interface Timestamp {
  /** Whole seconds since the Unix epoch. */
  sec: number;
  /** Nanoseconds within the second, 0..999_999_999. */
  nsec: number;
  /** Digits of fraction the capture really has: 6 (µs pcap), 9 (ns pcap), or per pcapng if_tsresol. */
  digits: number;
}

// ---------------------------------------------------------------- capture stage

export type CaptureFormat = 'pcap' | 'pcapng';

/**
 * One record read from a capture file. The object and `data` are only valid during the callback that gets
 * them (the reader reuses the object for the next record); `time` may be kept.
 */
export interface RawPacket {
  /** 1-based number across the whole capture set, as Wireshark numbers frames. */
  frame: number;
  /** Index into the list of inputs. */
  input: number;
  time: Timestamp;
  linkType: number;
  /** Bytes present in the capture. */
  capLen: number;
  /** Bytes the packet had on the wire. capLen < origLen means the snap length cut it. */
  origLen: number;
  data: Buffer;
}

/** Problems found while reading a capture: turned into capture.* findings. */
export interface CaptureProblem {
  code: 'capture.truncated' | 'capture.malformed' | 'capture.snaplen';
  message: string;
  input: number;
  /** Frame number of the packet concerned (for truncated/malformed: the last good frame, if any). */
  frame: number | null;
  /** Byte offset in the (decompressed) input where the problem was found. */
  offset?: number;
  evidence?: Record<string, unknown>;
}

export interface InputSummary {
  file: string;
  format: CaptureFormat;
  linkTypes: number[];
  packets: number;
  /** Bytes of capture data read (decompressed size for .gz). */
  bytes: number;
  firstTime: string | null;
  lastTime: string | null;
  /** Added: whether the input was gzip-compressed. */
  compressed?: boolean;
}

// ---------------------------------------------------------------- decode stage

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export interface TcpHeader {
  seq: number; // unsigned 32-bit
  ack: number; // unsigned 32-bit
  flags: number; // low 8 bits of the flags (FIN..CWR)
  window: number;
  headerLength: number;
  mss?: number;
  windowScale?: number;
}

/**
 * A packet decoded down to its transport layer. The object, its `tcp` header and `payload` (a view) are
 * valid only until the next decode (the decoder reuses them): copy what you keep; `time` may be kept.
 */
export interface DecodedPacket {
  frame: number;
  input: number;
  time: Timestamp;
  ipVersion: 4 | 6;
  /** Addresses as text: IPv4 dotted quad, IPv6 in RFC 5952 form (lower case, :: compressed). */
  src: string;
  dst: string;
  transport: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
  tcp: TcpHeader | null;
  payload: Buffer;
  /**
   * Bytes of transport payload that were on the wire but are not in the capture (snaplen cut).
   * 0 when the payload is complete.
   */
  missingBytes: number;
  /** For a reassembled IPv4/IPv6 fragment train: the frames that carried the fragments. */
  fragmentFrames?: number[];
}

// ---------------------------------------------------------------- flows stage

export interface Endpoint {
  ip: string;
  port: number;
}

/** "192.0.2.10:51234" or "[2001:db8::1]:51234" */
export function endpointText(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * Reassembled bytes of one direction of a TCP connection, handed to a protocol parser in order.
 * `frames[i]` tells which frame carried the bytes from `offsets[i]` on (offsets relative to the
 * start of `data`), so a parser can name the frame that started or completed a message.
 * `data` is a view (often of the captured packet itself): valid only during the call that gets it.
 * A consumer that keeps bytes past the call must copy them (Buffer.from / copy), never keep `data`
 * or a subarray of it. The arrays may be kept.
 */
export interface StreamChunk {
  data: Buffer;
  /** Absolute byte offset of data[0] in this direction's byte stream (0 = first byte after SYN). */
  streamOffset: number;
  /** Parallel arrays: the chunk is made of pieces, piece i starts at offsets[i] within data and came in frames[i]. */
  offsets: number[];
  frames: number[];
  /** Capture time of each piece. */
  times: Timestamp[];
}

// ---------------------------------------------------------------- protocol stage

export type Direction = 'client' | 'server';

export interface HttpHeaders extends Array<[string, string]> {}

/** One parsed HTTP/1.x or SIP message, as sent. */
export interface Message {
  protocol: 'http' | 'sip';
  kind: 'request' | 'response';
  /** Frame that carried the first byte of the message. */
  firstFrame: number;
  /** Frame that carried the last byte: Wireshark's frame.number for the http/sip packet. */
  frame: number;
  time: Timestamp;
  /** Time of the first frame. */
  firstTime: Timestamp;
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  version: string;
  /**
   * The header fields in order. With `rawHead` set, this is an empty placeholder: read them with
   * headersOf() (protocols/http.ts), which makes them from the head's text.
   */
  headers: HttpHeaders;
  /**
   * The head as sent (start line and header lines, each with its CRLF, as Latin-1), in place of `headers`
   * when the parser was asked not to make them (lazyHeaders: the second thread makes them from it).
   */
  rawHead?: string;
  /** Trailer headers of a chunked body. */
  trailers?: HttpHeaders;
  /** Body bytes as sent on the wire (after de-chunking, before content decoding), true length. */
  bodyLength: number;
  /** Body as sent (de-chunked, not content-decoded), kept up to the body limit. */
  body: Buffer;
  /** Body after Content-Encoding (gzip/deflate/br) was undone, up to the limit; same as body when not encoded. */
  decodedBody: Buffer;
  /** True when body/decodedBody hold fewer bytes than the message had. */
  bodyTruncated: boolean;
  /** The message spans a TCP gap or the capture ended inside it. */
  incomplete: boolean;
  /** Content-Length value when present and valid. */
  contentLength?: number;
  chunked?: boolean;
  /** Problems seen while parsing, e.g. "content-length: not a number". */
  anomalies: string[];
}

// ---------------------------------------------------------------- exchange stage

export type CredentialKind =
  | 'basic' | 'digest' | 'bearer' | 'ntlm' | 'negotiate' | 'header' | 'form' | 'query' | 'other';

export interface Credentials {
  kind: CredentialKind;
  user: string | null;
  fields: string[];
}

export interface RequestJson {
  frame: number;
  time: string;
  method: string;
  uri: string;
  version: string;
  headers: [string, string][];
  bodyLength: number;
  credentials: Credentials | null;
  /** Added fields. */
  firstFrame?: number;
  incomplete?: boolean;
}

export interface ResponseJson {
  frame: number;
  time: string;
  status: number;
  reason: string;
  headers: [string, string][];
  bodyLength: number;
  firstFrame?: number;
  incomplete?: boolean;
}

/** The JSON form of an exchange (REPORT.md). */
export interface Exchange {
  id: string;
  protocol: 'http' | 'sip';
  stream: number | null;
  client: string;
  server: string;
  request: RequestJson;
  response: ResponseJson | null;
  /** Added: carried in TLS that authcap decrypted. */
  tls?: boolean;
  /** Added: "tcp" | "udp". */
  transport?: 'tcp' | 'udp';
  /** Added: interim (1xx) responses before the final one. */
  interim?: { frame: number; status: number }[];
}

/**
 * What the checks see: the JSON exchange plus the raw messages with their bodies. The bodies are
 * dropped once the per-exchange checks have run.
 */
export interface ExchangeContext {
  exchange: Exchange;
  req: Message;
  res: Message | null;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  transport: 'tcp' | 'udp';
  /** Request time as a Timestamp (for time comparisons, e.g. JWT exp). */
  time: Timestamp;
}

// ---------------------------------------------------------------- findings

export type Severity = 'error' | 'warning' | 'info';

export type FindingCode =
  | 'capture.truncated' | 'capture.malformed' | 'capture.snaplen'
  | 'tcp.gap' | 'tcp.refused' | 'tcp.no-answer' | 'tcp.reset'
  | 'tls.reset-after-hello' | 'tls.alert' | 'tls.encrypted' | 'tls.undecrypted'
  | 'http.unauthorized'
  | 'auth.missing' | 'auth.field-missing' | 'auth.challenge-unanswered' | 'auth.rejected-after-retry'
  | 'auth.stale-nonce' | 'auth.digest-mismatch' | 'auth.basic-malformed' | 'auth.token-expired'
  | 'auth.challenge-mismatch'
  | 'method.get-not-post'
  | 'body.trailing-nul' | 'body.missing' | 'body.length-mismatch'
  | 'signature.uppercase' | 'signature.mismatch' | 'signature.variant'
  | 'app.ip-not-allowed'
  | 'http.malformed'
  | 'limit.reached';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
  exchange: string | null;
  stream: number | null;
  frames: number[];
  filter: string;
  evidence: Record<string, unknown>;
}

// ---------------------------------------------------------------- report

export interface Stats {
  packets: number;
  tcpStreams: number;
  httpRequests: number;
  httpResponses: number;
  sipRequests: number;
  sipResponses: number;
  [extra: string]: number;
}

export interface Report {
  tool: { name: 'authcap'; version: string };
  inputs: InputSummary[];
  stats: Stats;
  exchanges: Exchange[];
  findings: Finding[];
  [extra: string]: unknown;
}

/** The report's first sections, known once the input is read (before the cross-exchange checks). */
export interface ReportHead {
  tool: Report['tool'];
  inputs: InputSummary[];
  stats: Stats;
}

// ---------------------------------------------------------------- flows -> protocols interface

export interface TcpConnection {
  /** Wireshark's tcp.stream index. */
  stream: number;
  /** The side that sent the first SYN; without a SYN, a guess (the higher port) that parsers may revise. */
  client: Endpoint;
  server: Endpoint;
  firstFrame: number;
  firstTime: Timestamp;
  sawSyn: boolean;
}

export interface TcpGap {
  /** Offset in the direction's byte stream where bytes are missing. */
  streamOffset: number;
  /** How many bytes were never captured. */
  bytes: number;
  /** Last frame before the hole (null at the start) and first frame after it. */
  frameBefore: number | null;
  frameAfter: number | null;
}

/** Summary of a TCP connection, handed over when it is released; used by the network checks. */
export interface TcpConnectionSummary extends TcpConnection {
  /** Client SYNs (first and retransmissions). */
  synFrames: number[];
  synTimes: Timestamp[];
  synAckFrame: number | null;
  /** RST packets with the side that sent them. */
  resets: { frame: number; from: Direction; time: Timestamp }[];
  fins: { frame: number; from: Direction; time: Timestamp }[];
  /** Payload bytes seen in each direction. */
  bytes: { client: number; server: number };
  /** Frames of the first payload in each direction (null if none). */
  firstDataFrame: { client: number | null; server: number | null };
  lastFrame: number;
  lastTime: Timestamp;
  gaps: number;
}

/** What the TCP stage drives for each connection (one per tcp.stream). */
export interface TcpStreamHandler {
  /** In-order bytes of one direction. */
  data(dir: Direction, chunk: StreamChunk): void;
  /** Bytes of one direction that will never arrive (they were not captured). */
  gap(dir: Direction, gap: TcpGap): void;
  /** The direction ended (FIN reached in sequence, or RST). */
  end(dir: Direction, how: 'fin' | 'rst', frame: number): void;
  /** The connection is released (closed, idle, evicted, or end of capture). No call follows. */
  close(summary: TcpConnectionSummary): void;
}

export type TcpStreamHandlerFactory = (conn: TcpConnection) => TcpStreamHandler;

// ---------------------------------------------------------------- analysis options and limits

export interface Limits {
  /** Body bytes kept per message (default 1 MiB); the true length is always recorded. */
  bodyBytes: number;
  /** Header bytes per message before it is declared malformed (default 64 KiB). */
  headerBytes: number;
  /** Bytes a decompressed body may grow to (default 8 MiB). */
  decompressedBytes: number;
  /** Out-of-order bytes buffered per TCP direction (default 4 MiB). */
  reassemblyBytes: number;
  /** Open TCP connections tracked at once (default 100_000); the idlest are released beyond it. */
  streams: number;
  /** IP fragment trains held at once (default 4096). */
  fragments: number;
}

export const DEFAULT_LIMITS: Limits = {
  bodyBytes: 1 << 20,
  headerBytes: 64 << 10,
  decompressedBytes: 8 << 20,
  reassemblyBytes: 4 << 20,
  streams: 100_000,
  fragments: 4096,
};

export interface AnalysisOptions {
  limits: Limits;
  /** Digest/Basic verification: --password / --credentials user:password. */
  password?: string;
  user?: string;
  /** Signature key: --key or AUTHCAP_KEY. */
  key?: string;
}

// ---------------------------------------------------------------- checks

/**
 * A family of checks. `exchange` is called once per completed exchange, in order of completion,
 * while the bodies are still available; it may fill ctx.exchange.request.credentials. Anything a
 * family needs across exchanges it keeps itself, compactly (no bodies). `finish` is called once.
 */
export interface CheckFamily {
  name: string;
  exchange?(ctx: ExchangeContext): Finding[];
  connection?(summary: TcpConnectionSummary): Finding[];
  finish?(): Finding[];
}

/** Evidence keys whose values are secrets: reporters redact them unless --show-secrets. */
export const SECRET_EVIDENCE_KEYS = [
  'password', 'signature', 'expectedSignature', 'token', 'key', 'secret', 'authorization', 'credentials', 'response', 'expectedResponse',
];

/** One row of the 401 summary: an endpoint x client x user. */
export interface UnauthorizedGroup {
  /** "POST /path" (method and path without the query). */
  endpoint: string;
  /** Server "ip:port" and Host header (when present). */
  server: string;
  host: string | null;
  /** Client IP address as seen on the wire. */
  client: string;
  user: string | null;
  accepted: number;
  refused: number;
  firstRefusal: { time: string; frame: number; exchange: string } | null;
  lastRefusal: { time: string; frame: number; exchange: string } | null;
  /** The last accepted request before the first refusal: "when did it start". */
  lastAcceptedBeforeRefusal: { time: string; frame: number; exchange: string } | null;
  /** Count of refusals per reason finding code (auth.missing, auth.field-missing, ...). */
  reasons: Record<string, number>;
}

export interface UnauthorizedSummary {
  accepted: number;
  refused: number;
  firstRefusal: { time: string; frame: number; exchange: string } | null;
  groups: UnauthorizedGroup[];
}
