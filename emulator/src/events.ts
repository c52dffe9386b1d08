/**
 * Errno values, kernel constants shared across the emulator, and the event trace.
 * The trace is a persistent (cons) list so that forks share its past.
 */

// include/uapi/asm-generic/errno-base.h
export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ERANGE = 34;

// include/linux/dma-direction.h
export const DMA_BIDIRECTIONAL = 0;
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
export const DMA_NONE = 3;

// include/linux/iommu.h
export const IOMMU_READ = 1 << 0;
export const IOMMU_WRITE = 1 << 1;
export const IOMMU_CACHE = 1 << 2;
export const IOMMU_NOEXEC = 1 << 3;
export const IOMMU_MMIO = 1 << 4;
export const IOMMU_PRIV = 1 << 5;

/** One entry of the emulator's event trace. `text` is human-readable, addresses in hex. */
export interface EmuEvent {
  kind: string;
  text: string;
  [k: string]: unknown;
}

/** Format a number as 0x-prefixed hex. */
export function hex(n: number): string {
  return n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16);
}

/** Kernel-style %016llx. */
export function hex16(n: number): string {
  return '0x' + n.toString(16).padStart(16, '0');
}

const TEXT_FN = Symbol('text');

interface Cons {
  e: EmuEvent;
  next: Cons | null;
}

/** The event trace: appended to by every component, drained by the user. */
export class EventLog {
  private head: Cons | null = null;
  private count = 0;
  /** Total events ever emitted (not reset by drain). */
  total = 0;

  clone(): EventLog {
    const c = new EventLog();
    c.head = this.head;
    c.count = this.count;
    c.total = this.total;
    return c;
  }

  /**
   * Record an event whose text is formatted only when someone reads the trace
   * (drain/peek): most events of a symbolic run are never looked at.
   */
  emitLazy(e: Omit<EmuEvent, 'text'>, text: () => string): void {
    const ev = e as EmuEvent;
    ev.text = '';
    (ev as unknown as Record<symbol, unknown>)[TEXT_FN] = text;
    this.emit(ev);
  }

  emit(e: EmuEvent): void {
    this.head = { e, next: this.head };
    this.count++;
    this.total++;
  }

  get pending(): number {
    return this.count;
  }

  /** The pending events, oldest first, without removing them. */
  peek(): EmuEvent[] {
    const out: EmuEvent[] = new Array(this.count);
    let c = this.head;
    for (let i = this.count - 1; i >= 0; i--) {
      const e = c!.e as unknown as EmuEvent & Record<symbol, (() => string) | undefined>;
      const f = e[TEXT_FN];
      if (f) {
        // deterministic, so materialising a (possibly fork-shared) event is harmless
        e.text = f();
        e[TEXT_FN] = undefined;
      }
      out[i] = e;
      c = c!.next;
    }
    return out;
  }

  /** The pending events, oldest first; the log is left empty. */
  drain(): EmuEvent[] {
    const out = this.peek();
    this.head = null;
    this.count = 0;
    return out;
  }
}
