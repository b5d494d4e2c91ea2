// An intrusive doubly linked list used as an LRU: O(1) append, remove and move-to-tail without hashing,
// for the tracker's per-packet "this connection was active" bookkeeping.

export interface ListNode {
  prev: ListNode | null;
  next: ListNode | null;
  /** Which list holds the node (null when none). */
  list: LruList | null;
}

export class LruList {
  head: ListNode | null = null;
  tail: ListNode | null = null;
  size = 0;

  /** Append at the tail (most recently used). The node must not be in a list. */
  push(n: ListNode): void {
    n.list = this;
    n.prev = this.tail;
    n.next = null;
    if (this.tail) this.tail.next = n;
    else this.head = n;
    this.tail = n;
    this.size++;
  }

  remove(n: ListNode): void {
    if (n.list !== this) return;
    if (n.prev) n.prev.next = n.next;
    else this.head = n.next;
    if (n.next) n.next.prev = n.prev;
    else this.tail = n.prev;
    n.prev = n.next = null;
    n.list = null;
    this.size--;
  }

  /** Mark as most recently used. */
  touch(n: ListNode): void {
    if (this.tail === n) return;
    this.remove(n);
    this.push(n);
  }
}
