// Findings' texts for tests, as the report gets them: a stub's bytes (FindingsReader.copyTo), or what
// writeFindingJson writes for a finding, decoded.
import type { Finding } from '../../src/types.js';
import { JsonSink } from '../../src/report/exchange-json.js';
import { writeFindingJson } from '../../src/report/finding-json.js';
import type { FindingsReader, TextRef } from '../../src/report/findings-spill.js';

/** A stub's text as the report gets it (FindingsReader.copyTo), decoded. */
export function stubText(reader: FindingsReader, ref: TextRef): string {
  const sink = new JsonSink(0);
  reader.copyTo(ref, sink);
  return sink.buf.toString('utf8', 0, sink.pos);
}

/** One finding's text as it sits in the report's "findings" array (writeFindingJson's bytes, decoded). */
export function findingJsonText(f: Finding, redact: boolean, known: readonly string[]): string {
  const sink = new JsonSink(0);
  writeFindingJson(sink, f, redact, known);
  return sink.toString();
}
