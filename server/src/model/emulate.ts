/**
 * The bridge from symbolic values to the emulator: it gives each distinct `dev`, `iovad`
 * and `domain` expression of the analysed code its own emulated object, picks concrete
 * values for unknowns (a size nobody knows is one page), and keeps the concrete value the
 * emulator returned for each symbol, so traces print real addresses.
 *
 * The emulator never throws on bad device behaviour; an exception here is a bug of ours,
 * and the executor turns it into an event rather than losing the analysis.
 */
import { pretty } from '../exec/value';
import { createSystem, System, EmuEvent, SystemConfig } from '../../../emulator/src/index';

export class EmuBridge {
  /**
   * Forks share the parent's system until one of them touches it: most forks (a branch on an
   * unknown condition) run no API call before the path ends or merges.
   */
  private owned = true;

  constructor(
    private _sys: System,
    /** symbol name -> concrete value chosen or returned by the emulator */
    readonly model: Map<string, number>,
    /** value key of a dev / iovad / domain expression -> emulator handle */
    readonly handles: Map<string, number>,
    readonly granule: number,
    private nextFixed: { n: number },
  ) {}

  static create(config: SystemConfig): EmuBridge {
    return new EmuBridge(createSystem(config), new Map(), new Map(), config.granule ?? 4096, { n: 0 });
  }

  get sys(): System {
    if (!this.owned) {
      this._sys = this._sys.fork();
      this.owned = true;
    }
    return this._sys;
  }

  fork(): EmuBridge {
    this.owned = false;
    const b = new EmuBridge(this._sys, new Map(this.model), new Map(this.handles), this.granule, { n: this.nextFixed.n });
    b.owned = false;
    return b;
  }

  device(k: string): number {
    let h = this.handles.get('dev:' + k);
    if (h === undefined) {
      // Name devices by their expression so the inspector shows "mmu->dev".
      const name = pretty(k);
      h = this.sys.device(name.length > 40 ? name.slice(0, 40) : name);
      this.handles.set('dev:' + k, h);
    }
    return h;
  }

  iovad(k: string): number {
    let h = this.handles.get('iovad:' + k);
    if (h === undefined) {
      h = this.sys.initIovaDomain(this.granule, 1);
      this.handles.set('iovad:' + k, h);
    }
    return h;
  }

  /** The domain a value names: one allocated or looked up earlier, or an unmanaged domain of its own. */
  domain(k: string): number {
    let h = this.handles.get('domain:' + k);
    if (h === undefined) {
      h = this.sys.domainAlloc('unmanaged') ?? -1;
      this.handles.set('domain:' + k, h);
    }
    return h;
  }

  setDomain(k: string, h: number): void {
    this.handles.set('domain:' + k, h);
  }

  /** A physical buffer for an unknown pointer (a page per distinct expression). */
  buffer(k: string): number {
    let pa = this.model.get('pa:' + k);
    if (pa === undefined) {
      pa = this.sys.allocPages(0) || 0x1000;
      this.model.set('pa:' + k, pa);
    }
    return pa;
  }

  /** A fixed IOVA for an unknown address argument, distinct per expression. */
  fixedIova(k: string): number {
    let a = this.model.get('iova:' + k);
    if (a === undefined) {
      a = 0x40000000 + this.nextFixed.n++ * 0x200000;
      this.model.set('iova:' + k, a);
    }
    return a;
  }

  drain(): EmuEvent[] {
    return this.sys.drainEvents();
  }
}
