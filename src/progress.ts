// A progress line on stderr for large inputs (only when stderr is a terminal): bytes read, packets, rate.
// It stays silent for the first second so small captures print nothing.

export class Progress {
  private start = Date.now();
  private last = 0;
  private shown = false;

  constructor(private out: NodeJS.WriteStream) {}

  update(p: { bytes: number; packets: number; file: string }): void {
    const now = Date.now();
    if (now - this.start < 1000 || now - this.last < 200) return;
    this.last = now;
    const secs = (now - this.start) / 1000;
    const mb = p.bytes / 1048576;
    const line = `authcap: ${p.file}: ${mb.toFixed(1)} MiB, ${p.packets.toLocaleString('en')} packets, ${(mb / secs).toFixed(1)} MiB/s`;
    const width = (this.out.columns || 80) - 1;
    this.out.write(`\r${line.slice(0, width).padEnd(Math.min(width, line.length + 2))}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.out.write('\r\x1b[2K');
  }
}
