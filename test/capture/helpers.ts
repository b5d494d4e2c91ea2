// Test helpers for the capture stage: run a CaptureParser over a buffer in chunks of a given size
// and collect what it reports (packet data copied, since it is only valid during the callback).

import { CaptureParser } from '../../src/capture/parser.js';
import type { CaptureProblem, InputSummary, Timestamp } from '../../src/types.js';

export interface Collected {
  packets: { frame: number; time: Timestamp; linkType: number; capLen: number; origLen: number; data: Buffer }[];
  problems: CaptureProblem[];
  secrets: { type: number; data: Buffer; frame: number }[];
  summary: InputSummary;
  format: string | null;
  nextFrame: number;
}

export function parseBuffer(buf: Buffer, chunk = 1 << 20, firstFrame = 1): Collected {
  const out: Omit<Collected, 'summary' | 'format' | 'nextFrame'> = { packets: [], problems: [], secrets: [] };
  const p = new CaptureParser({
    input: 0,
    firstFrame,
    onPacket: (r) => out.packets.push({ frame: r.frame, time: r.time, linkType: r.linkType, capLen: r.capLen, origLen: r.origLen, data: Buffer.from(r.data) }),
    onProblem: (x) => out.problems.push(x),
    onSecrets: (type, data, frame) => out.secrets.push({ type, data, frame }),
  });
  for (let i = 0; i < buf.length; i += chunk) p.push(buf.subarray(i, i + chunk));
  p.end();
  return { ...out, summary: p.summary('x'), format: p.format, nextFrame: p.nextFrame };
}
