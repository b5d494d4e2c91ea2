// A binary min-heap ordered by a comparison function: pop() gives the item that sorts first.

export class MinHeap<T> {
  private a: T[] = [];

  /** `compare(x, y)` < 0 when x comes before y (as for Array.prototype.sort). */
  constructor(private readonly compare: (x: T, y: T) => number) {}

  get size(): number {
    return this.a.length;
  }

  peek(): T | undefined {
    return this.a[0];
  }

  push(x: T): void {
    this.a.push(x);
    this.up(this.a.length - 1);
  }

  pop(): T | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last !== undefined) {
      a[0] = last;
      this.down(0);
    }
    return top;
  }

  /** Keep only the items `keep` accepts (in heap order again). */
  retain(keep: (x: T) => boolean): void {
    this.a = this.a.filter(keep);
    for (let i = (this.a.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private up(i: number): void {
    const a = this.a;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.compare(a[p], a[i]) <= 0) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  private down(i: number): void {
    const a = this.a;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < a.length && this.compare(a[l], a[m]) < 0) m = l;
      if (r < a.length && this.compare(a[r], a[m]) < 0) m = r;
      if (m === i) return;
      [a[m], a[i]] = [a[i], a[m]];
      i = m;
    }
  }
}
