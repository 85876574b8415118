// Spare memory for large arrays made again and again (video frames, network inputs). A fresh multi-megabyte
// allocation per frame costs a page fault on every page as it is first written, and garbage that makes V8 collect;
// memory handed back once nothing uses it is taken again instead.

export class BufferPool {
  private readonly spare: ArrayBuffer[] = [];

  /** At most `capacity` spare buffers are kept, the oldest dropped first. */
  constructor(private readonly capacity = 4) {}

  /** `bytes` of memory, its contents left as they were: for arrays written whole. */
  take(bytes: number): ArrayBuffer {
    const i = this.spare.findIndex((buffer) => buffer.byteLength === bytes);
    if (i >= 0) return this.spare.splice(i, 1)[0]!;
    return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
  }

  /** Memory nothing reads or writes any more (a detached one, moved to another thread, is ignored). */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || this.spare.includes(buffer)) return;
    if (this.spare.length === this.capacity) this.spare.shift();
    this.spare.push(buffer);
  }
}
