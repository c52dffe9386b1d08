/**
 * Emulator snapshot (the emulator's `inspect()` data, carried in PathTrace.snapshots) -> a tree
 * of labelled nodes for the page-table inspector, and the IOVA-space picture's segments.
 *
 * The snapshot's shape belongs to the emulator and may grow; this reads what it recognises (SMMU,
 * streams/STEs, CDs, page-table levels and entries, IOVA allocators, reserved regions, event
 * queue), shows anything else generically (key: value), and never throws on a missing field.
 * No vscode import: unit-testable in Node.
 */

/** One node of the inspector tree. */
export interface InspectorNode {
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon id (`symbol-struct`, `database`...). */
  icon?: string;
  /** Drives the tree item's context menu (`TreeItem.contextValue`). */
  kind: 'section' | 'stream' | 'cd' | 'table' | 'entry' | 'range' | 'region' | 'event' | 'value' | 'group';
  children?: InspectorNode[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) >= 4096 ? `0x${v.toString(16)}` : String(v);
  if (typeof v === 'bigint') return `0x${v.toString(16)}`;
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** First present field among `keys`. */
function pick(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(v)) return Number(v.trim());
  return undefined;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function sizeText(n: number): string {
  if (n >= 2 ** 30 && n % 2 ** 30 === 0) return `${n / 2 ** 30}G`;
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}K`;
  return `${n} B`;
}

/** Sections in the order the inspector lists them, with the snapshot keys each gathers. */
const SECTIONS: { title: string; icon: string; keys: string[] }[] = [
  { title: 'SMMU', icon: 'circuit-board', keys: ['smmu', 'smmus', 'smmuv3', 'iommu'] },
  { title: 'Domains', icon: 'symbol-namespace', keys: ['domains', 'domain'] },
  { title: 'IOMMU groups', icon: 'group-by-ref-type', keys: ['groups'] },
  { title: 'VFIO containers', icon: 'vm', keys: ['vfio'] },
  { title: 'IOVA allocators', icon: 'symbol-array', keys: ['iovads', 'iovad', 'iova', 'allocators', 'iovaDomains'] },
  { title: 'Reserved regions', icon: 'lock', keys: ['reservedRegions', 'reserved', 'resv', 'resvRegions'] },
  { title: 'DMA API debug', icon: 'arrow-swap', keys: ['dmaDebug', 'dma', 'mappings', 'dmaMappings'] },
  { title: 'Event queue', icon: 'warning', keys: ['eventq', 'eventQueue', 'events', 'faults'] },
  { title: 'Command queue', icon: 'terminal', keys: ['cmdq', 'commandQueue', 'commands'] },
  { title: 'IOTLB', icon: 'database', keys: ['iotlb', 'tlb'] },
];

/**
 * The inspector's root nodes for a snapshot: the known sections first, then any other top-level
 * field. An empty or missing snapshot gives one explanatory node.
 */
export function snapshotToNodes(snapshot: unknown): InspectorNode[] {
  if (!isObj(snapshot) || Object.keys(snapshot).length === 0) {
    return [{ label: 'No emulator state', description: 'run a snippet first', kind: 'value', icon: 'info' }];
  }
  const used = new Set<string>();
  const roots: InspectorNode[] = [];
  for (const s of SECTIONS) {
    const keys = s.keys.filter((k) => snapshot[k] !== undefined);
    if (!keys.length) continue;
    keys.forEach((k) => used.add(k));
    let children: InspectorNode[];
    if (s.title === 'SMMU' && isObj(snapshot.smmu) && Array.isArray(snapshot.devices)) {
      // emulator/src/system.ts: the SMMU's registers and queues, with the STEs and CDs per device.
      used.add('devices');
      children = systemSmmuChildren(snapshot);
    } else {
      children = keys.flatMap((k) => sectionChildren(s.title, snapshot[k]));
    }
    roots.push({ label: s.title, description: countText(children), kind: 'section', icon: s.icon, children });
  }
  for (const [k, v] of Object.entries(snapshot)) {
    if (used.has(k)) continue;
    roots.push(generic(k, v));
  }
  return roots;
}

function countText(children: InspectorNode[]): string | undefined {
  return children.length ? `${children.length}` : 'empty';
}

function sectionChildren(title: string, v: unknown): InspectorNode[] {
  switch (title) {
    case 'SMMU': return Array.isArray(v) ? v.map((x, i) => smmuNode(x, i)) : smmuChildren(v);
    case 'Domains': return list(v).map((x, i) => domainNode(x, i));
    case 'IOVA allocators': return Array.isArray(v) || !looksLikeIovad(v) ? list(v).map((x, i) => iovadNode(x, i)) : [iovadNode(v, 0)];
    case 'Reserved regions': return list(v).map((x, i) => regionNode(x, i));
    case 'IOMMU groups': return list(v).map((x, i) => groupNode(x, i));
    case 'VFIO containers': return list(v).map((x, i) => vfioNode(x, i));
    case 'Event queue': return eventChildren(v);
    default: return genericChildren(v);
  }
}

/** Arrays as they are; an object of id -> item as its items (with the key as a name). */
function list(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObj(v)) return Object.entries(v).map(([k, x]) => (isObj(x) && x.name === undefined ? { name: k, ...x } : x));
  return v === undefined ? [] : [v];
}

/** The SMMU of a whole-system snapshot: stream table, STEs (from `devices`) -> CDs -> page tables, queues. */
function systemSmmuChildren(snap: Obj): InspectorNode[] {
  const smmu = snap.smmu as Obj;
  const domains = Array.isArray(snap.domains) ? (snap.domains as unknown[]).filter(isObj) : [];
  const tableFor = (cd: Obj): unknown => {
    const d = domains.find((x) => x.pgd !== undefined && x.pgd === pick(cd, 'ttb0', 'ttbr', 'ttbr0'))
      ?? domains.find((x) => x.asid !== undefined && x.asid !== null && x.asid === cd.asid);
    return d?.pageTable;
  };
  const out: InspectorNode[] = [];
  if (isObj(smmu.strtab)) {
    const t = smmu.strtab;
    out.push({ label: 'Stream table', description: [str(t.format), t.base && `@ ${str(t.base)}`, t.log2size !== undefined && `log2size ${str(t.log2size)}`, t.split !== undefined && `split ${str(t.split)}`].filter(Boolean).join(' · '), kind: 'value', icon: 'table' });
  }
  const streams = (snap.devices as unknown[]).filter(isObj).filter((d) => d.ste !== undefined).map((d, j) => {
    const ste = isObj(d.ste) ? d.ste : {};
    const cds = Array.isArray(d.cds) ? d.cds.filter(isObj).map((cd) => ({ ...cd, table: tableFor(cd) })) : undefined;
    return streamNode({ ...ste, device: d.name, cds, ...(Array.isArray(d.accesses) ? { accesses: d.accesses } : {}) }, j);
  });
  out.push({ label: 'Streams (STE)', description: countText(streams), kind: 'group', icon: 'list-tree', children: streams });
  // devices with no stream at all (no SMMU node): what their DMA reaches
  for (const d of (snap.devices as unknown[]).filter(isObj).filter((x) => x.ste === undefined && Array.isArray(x.accesses))) {
    out.push({ label: `device ${str(d.name) ?? '?'}`, description: str(d.iommu), kind: 'group', icon: 'plug', children: accessNodes(d.accesses as unknown[]) });
  }
  for (const [k, x] of Object.entries(smmu)) {
    if (k === 'strtab') continue;
    if (k === 'gerror' && isObj(x)) out.push(gerrorNode(x));
    else if (k === 'priq') out.push(isObj(x) && x.present === false ? { label: 'PRI queue', description: 'none (no PRI)', kind: 'group', icon: 'inbox' } : priqNode(x));
    else if (k === 'cmdq' || k === 'evtq') out.push(queueNode(k === 'cmdq' ? 'Command queue' : 'Event queue', x, k === 'evtq'));
    else if (k === 'iotlb') out.push({ label: 'IOTLB', description: Array.isArray(x) ? `${x.length}` : undefined, kind: 'group', icon: 'database', children: genericChildren(x) });
    else out.push(generic(k, x));
  }
  return out;
}

/** SMMU_GERROR / GERRORN: the errors active now and every one raised. */
function gerrorNode(v: Obj): InspectorNode {
  const active = Array.isArray(v.active) ? (v.active as unknown[]).map((x) => str(x) ?? '') : [];
  const raised = Array.isArray(v.raised) ? (v.raised as unknown[]).map((x) => str(x) ?? '') : [];
  const children: InspectorNode[] = [
    { label: 'GERROR', description: str(v.gerror), kind: 'value' },
    { label: 'GERRORN', description: str(v.gerrorn), kind: 'value' },
    { label: 'Active', description: active.join(' ') || 'none', kind: 'value', icon: active.length ? 'error' : undefined },
    ...raised.map((t) => ({ label: t.replace(/ \(GERROR .*$/, ''), description: t.includes(': ') ? t.slice(t.indexOf(': ') + 2) : undefined, tooltip: t, kind: 'event' as const, icon: 'error' })),
  ];
  return { label: 'Global errors (GERROR)', description: active.length ? `active: ${active.join(' ')}` : raised.length ? `${raised.length} raised, none active` : 'none', kind: 'group', icon: active.length ? 'error' : 'pass', children };
}

/** The PRI queue: its registers and the page requests it holds or held. */
function priqNode(v: unknown): InspectorNode {
  if (!isObj(v)) return generic('PRI queue', v);
  const meta = [v.base && `@ ${str(v.base)}`, v.prod !== undefined && `prod ${str(v.prod)}`, v.cons !== undefined && `cons ${str(v.cons)}`, v.overflow === true && 'overflow'].filter(Boolean).join(' · ');
  const recs = list(v.recent ?? []).filter(isObj).map((r, i): InspectorNode => ({
    label: `sid ${hex(num(r.sid) ?? 0)}${r.ssid !== null && r.ssid !== undefined ? ` ssid ${str(r.ssid)}` : ''} [${str(r.grpid)}${r.last ? 'L' : ''}] ${r.read ? 'R' : ''}${r.write ? 'W' : ''}${r.exec ? 'X' : ''}`,
    description: `iova ${str(r.iova)}${r.pending ? ' · pending' : ''} · #${str(r.index) ?? i}`,
    tooltip: Array.isArray(r.raw) ? (r.raw as unknown[]).map((x) => str(x)).join(' ') : undefined,
    kind: 'event', icon: 'inbox',
  }));
  const last = isObj(v.lastResponse) ? v.lastResponse : null;
  if (last) recs.push({ label: `CMD_PRI_RESP ${str(last.resp)}`, description: `sid ${hex(num(last.sid) ?? 0)} grpid ${str(last.grpid)}`, kind: 'value', icon: 'reply' });
  return { label: 'PRI queue', description: meta || undefined, kind: 'group', icon: 'inbox', children: recs };
}

/** What a device's DMA reaches now: address -> PA (and how), or the fault. */
function accessNodes(v: unknown[]): InspectorNode[] {
  return v.filter(isObj).map((a) => ({
    label: `${str(a.addr)} → ${str(a.result)}`,
    description: [str(a.fn), str(a.via) ?? (a.recorded === true ? 'event recorded' : a.recorded === false ? 'no event' : undefined)].filter(Boolean).join(' · ') || undefined,
    kind: 'value' as const, icon: a.via !== undefined ? 'arrow-right' : 'error',
  }));
}

/** An IOMMU group as sysfs shows it: /sys/kernel/iommu_groups/N, its type, devices, reserved_regions. */
function groupNode(v: unknown, i: number): InspectorNode {
  if (!isObj(v)) return { label: `group ${i}`, description: str(v), kind: 'group', icon: 'group-by-ref-type' };
  const rr = Array.isArray(v.reservedRegions) ? (v.reservedRegions as unknown[]).map((x) => str(x) ?? '') : [];
  const names = Array.isArray(v.deviceNames) ? (v.deviceNames as unknown[]).map((x) => str(x) ?? '') : [];
  const children: InspectorNode[] = [
    { label: 'type', description: str(v.type), kind: 'value' },
    { label: 'devices', description: names.join(' ') || (Array.isArray(v.devices) ? (v.devices as unknown[]).map((x) => str(x)).join(', ') : undefined), kind: 'value' },
    { label: 'reserved_regions', description: `${rr.length}`, kind: 'group', icon: 'lock', children: rr.map((line) => ({ label: line, kind: 'region' as const, icon: 'lock' })) },
  ];
  for (const [k, x] of Object.entries(v)) {
    if (['sysfs', 'type', 'devices', 'deviceNames', 'reservedRegions', 'id'].includes(k)) continue;
    children.push(generic(k, x));
  }
  return { label: str(v.sysfs) ?? `group ${str(v.id) ?? i}`, description: [str(v.type), names.join(' ')].filter(Boolean).join(' · ') || undefined, kind: 'group', icon: 'group-by-ref-type', children };
}

/** A VFIO type1 container: its domain, pinned pages, and each MAP_DMA with its chunks. */
function vfioNode(v: unknown, i: number): InspectorNode {
  if (!isObj(v)) return { label: `container ${i}`, description: str(v), kind: 'group', icon: 'vm' };
  const dmas = list(v.dmas ?? []).filter(isObj).map((d): InspectorNode => ({
    label: `MAP_DMA ${str(d.iova)}${num(d.size) ? `–${hex(num(d.iova)! + num(d.size)! - 1)}` : ''}`,
    description: [`vaddr ${str(d.vaddr)}`, num(d.size) ? sizeText(num(d.size)!) : undefined, `prot ${str(d.prot)}`].filter(Boolean).join(' · '),
    kind: 'range', icon: 'symbol-number',
    children: list(d.chunks ?? []).filter(isObj).map((c) => ({ label: `chunk ${str(c.iova)} → ${str(c.pa)}`, description: `${str(c.npage)} page(s) pinned`, kind: 'entry' as const, icon: 'pin' })),
  }));
  return {
    label: `container ${str(v.id) ?? i}`, description: [v.domain !== undefined && `domain ${str(v.domain)}`, v.lockedPages !== undefined && `${str(v.lockedPages)} pinned`].filter(Boolean).join(' · ') || undefined,
    kind: 'group', icon: 'vm', children: [...dmas, ...Object.entries(v).filter(([k]) => !['id', 'dmas', 'domain', 'lockedPages'].includes(k)).map(([k, x]) => generic(k, x))],
  };
}

/** A command or event queue: prod/cons and its records. */
function queueNode(label: string, v: unknown, events: boolean): InspectorNode {
  if (!isObj(v)) return generic(label, v);
  const meta = [v.base && `@ ${str(v.base)}`, v.prod !== undefined && `prod ${str(v.prod)}`, v.cons !== undefined && `cons ${str(v.cons)}`, v.overflow === true && 'overflow'].filter(Boolean).join(' · ');
  const records = events ? eventChildren(v) : list(pick(v, 'entries', 'records') ?? []).map((e, i) => {
    if (!isObj(e)) return { label: str(e) ?? `#${i}`, kind: 'value' as const };
    const raw = Array.isArray(e.raw) ? (e.raw as unknown[]).map((x) => str(x)).join(' ') : str(e.raw);
    return { label: str(pick(e, 'op', 'opcode', 'type')) ?? `#${i}`, description: `#${str(pick(e, 'index')) ?? i}`, tooltip: raw, kind: 'value' as const, icon: 'symbol-event' };
  });
  return { label, description: meta || undefined, kind: 'group', icon: events ? 'warning' : 'terminal', children: records };
}

function smmuNode(v: unknown, i: number): InspectorNode {
  const o = isObj(v) ? v : {};
  return { label: str(pick(o, 'name', 'id')) ?? `SMMU ${i}`, kind: 'group', icon: 'circuit-board', children: smmuChildren(v) };
}

function smmuChildren(v: unknown): InspectorNode[] {
  if (!isObj(v)) return genericChildren(v);
  const out: InspectorNode[] = [];
  const streams = pick(v, 'streams', 'stes', 'ste', 'strtab', 'streamTable');
  const used = new Set(['streams', 'stes', 'ste', 'strtab', 'streamTable']);
  if (streams !== undefined) {
    const items = isObj(streams) && (streams.entries || streams.stes)
      ? list(streams.entries ?? streams.stes) : list(streams);
    const meta = isObj(streams) && (streams.entries || streams.stes)
      ? Object.entries(streams).filter(([k]) => k !== 'entries' && k !== 'stes').map(([k, x]) => str(x) !== undefined ? `${k} ${str(x)}` : '').filter(Boolean).join(', ')
      : undefined;
    const children = items.map((x, j) => streamNode(x, j));
    out.push({ label: 'Streams (STE)', description: meta || countText(children), kind: 'group', icon: 'list-tree', children });
  }
  for (const [k, x] of Object.entries(v)) {
    if (used.has(k)) continue;
    if (/^(eventq|events|eventQueue)$/.test(k)) out.push({ label: 'Event queue', kind: 'group', icon: 'warning', children: eventChildren(x) });
    else out.push(generic(k, x));
  }
  return out;
}

function streamNode(v: unknown, i: number): InspectorNode {
  if (!isObj(v)) return { label: `STE ${i}`, description: str(v), kind: 'stream', icon: 'symbol-field' };
  const sid = str(pick(v, 'sid', 'streamId', 'streamID', 'index', 'id')) ?? String(i);
  const config = str(pick(v, 'config', 'cfg', 'mode'));
  const dev = str(pick(v, 'device', 'dev', 'name'));
  const cds = pick(v, 'cds', 'cd', 'contextDescriptors', 'cdTable');
  const s2 = pick(v, 's2', 'stage2', 's2Table', 'vttb');
  const children: InspectorNode[] = [];
  if (cds !== undefined) {
    const items = list(cds);
    children.push({ label: 'Context descriptors', description: countText(items as InspectorNode[]), kind: 'group', icon: 'symbol-class', children: items.map((x, j) => cdNode(x, j)) });
  }
  if (s2 !== undefined) children.push(tableRoot('Stage 2', s2));
  if (Array.isArray(v.accesses)) children.push({ label: 'DMA now', description: `${v.accesses.length}`, kind: 'group', icon: 'arrow-swap', children: accessNodes(v.accesses) });
  for (const [k, x] of Object.entries(v)) {
    if (['sid', 'streamId', 'streamID', 'index', 'id', 'config', 'cfg', 'mode', 'device', 'dev', 'name', 'cds', 'cd', 'contextDescriptors', 'cdTable', 's2', 'stage2', 's2Table', 'accesses'].includes(k)) continue;
    children.push(generic(k, x));
  }
  return {
    label: `SID ${sid}`, description: [config, dev].filter(Boolean).join(' · ') || undefined,
    tooltip: `STE for StreamID ${sid}${config ? `, config ${config}` : ''}`, kind: 'stream', icon: 'symbol-field', children,
  };
}

function cdNode(v: unknown, i: number): InspectorNode {
  if (!isObj(v)) return { label: `CD ${i}`, description: str(v), kind: 'cd', icon: 'symbol-class' };
  const ssid = str(pick(v, 'ssid', 'substreamId', 'pasid', 'index')) ?? String(i);
  const asid = str(pick(v, 'asid', 'ASID'));
  const ttbr = str(pick(v, 'ttbr', 'ttbr0', 'ttb0', 'TTB0'));
  const table = pick(v, 'table', 'pgtable', 'pageTable', 'tables', 'levels', 'root');
  const children: InspectorNode[] = [];
  if (table !== undefined) children.push(tableRoot('Page table', table));
  for (const [k, x] of Object.entries(v)) {
    if (['ssid', 'substreamId', 'pasid', 'index', 'asid', 'ASID', 'ttbr', 'ttbr0', 'ttb0', 'TTB0', 'table', 'pgtable', 'pageTable', 'tables', 'levels', 'root'].includes(k)) continue;
    children.push(generic(k, x));
  }
  return {
    label: `SSID ${ssid}${ssid === '0' ? ' (no PASID)' : ' (PASID)'}`, description: [asid && `ASID ${asid}`, ttbr && `TTBR ${ttbr}`, v.domain !== undefined && v.domain !== null && `domain ${str(v.domain)}`].filter(Boolean).join(' · ') || undefined,
    kind: 'cd', icon: 'symbol-class', children,
  };
}

function domainNode(v: unknown, i: number): InspectorNode {
  if (!isObj(v)) return { label: `domain ${i}`, description: str(v), kind: 'group', icon: 'symbol-namespace' };
  const id = str(pick(v, 'name', 'id'));
  const name = id !== undefined ? `domain ${id}` : `domain ${i}`;
  const type = [str(pick(v, 'type', 'kind')), v.asid !== undefined && v.asid !== null ? `ASID ${str(v.asid)}` : undefined,
    v.vmid !== undefined && v.vmid !== null ? `VMID ${str(v.vmid)}` : undefined].filter(Boolean).join(' · ') || undefined;
  const table = pick(v, 'pgtable', 'table', 'pageTable', 'tables', 'levels');
  const children: InspectorNode[] = [];
  if (table !== undefined) children.push(tableRoot(`Page table${v.pgd ? ` @ ${str(v.pgd)}` : ''}`, table));
  for (const [k, x] of Object.entries(v)) {
    if (['name', 'id', 'type', 'kind', 'pgtable', 'table', 'pageTable', 'tables', 'levels'].includes(k)) continue;
    if (k === 'iovad' || k === 'iova') children.push(iovadNode(x, 0));
    else children.push(generic(k, x));
  }
  return { label: name, description: type, kind: 'group', icon: 'symbol-namespace', children };
}

/** A page table: levels of entries (or a flat entry list, or a tree of tables). */
function tableRoot(label: string, v: unknown): InspectorNode {
  if (Array.isArray(v)) {
    const isLevels = v.every((x) => isObj(x) && x.entries !== undefined && x.iova === undefined);
    const children = isLevels ? v.map((x, i) => levelNode(x, i)) : v.map((x, i) => entryNode(x, i));
    return { label, description: countText(children), kind: 'table', icon: 'table', children };
  }
  if (isObj(v)) {
    const children: InspectorNode[] = [];
    const levels = pick(v, 'levels', 'tables');
    const entries = pick(v, 'entries', 'ptes', 'mappings');
    if (Array.isArray(levels)) children.push(...levels.map((x, i) => levelNode(x, i)));
    if (entries !== undefined) children.push(...list(entries).map((x, i) => entryNode(x, i)));
    const meta: string[] = [];
    for (const [k, x] of Object.entries(v)) {
      if (['levels', 'tables', 'entries', 'ptes', 'mappings'].includes(k)) continue;
      const s = str(x);
      if (s !== undefined && meta.length < 4) meta.push(`${k} ${s}`);
      else children.push(generic(k, x));
    }
    return { label, description: meta.join(' · ') || countText(children), kind: 'table', icon: 'table', children };
  }
  return { label, description: str(v), kind: 'table', icon: 'table' };
}

function levelNode(v: unknown, i: number): InspectorNode {
  if (!isObj(v)) return { label: `level ${i}`, description: str(v), kind: 'table', icon: 'layers' };
  const level = str(pick(v, 'level', 'lvl')) ?? String(i);
  const addr = str(pick(v, 'addr', 'base', 'pa', 'table'));
  const entries = list(pick(v, 'entries', 'ptes') ?? []);
  const children = entries.map((x, j) => entryNode(x, j));
  return {
    label: `L${level}${addr ? ` @ ${addr}` : ''}`, description: `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`,
    kind: 'table', icon: 'layers', children,
  };
}

/** A page-table entry: IOVA range -> PA, permissions, page or block, raw descriptor. */
function entryNode(v: unknown, i: number): InspectorNode {
  if (!isObj(v)) return { label: `[${i}]`, description: str(v), kind: 'entry', icon: 'symbol-constant' };
  const iova = num(pick(v, 'iova', 'va', 'ipa', 'start'));
  const size = num(pick(v, 'size', 'length', 'len', 'pgsize'));
  const pa = str(pick(v, 'pa', 'paddr', 'phys', 'oa', 'output'));
  const perms = str(pick(v, 'perms', 'prot', 'perm', 'ap'));
  const type = str(pick(v, 'type', 'kind'));
  const raw = str(pick(v, 'desc', 'raw', 'descriptor', 'pte'));
  const index = str(pick(v, 'index', 'idx'));
  const level = str(pick(v, 'level', 'lvl'));
  const slot = level !== undefined && index !== undefined ? `L${level}[${index}] ` : index !== undefined ? `[${index}] ` : '';
  const range = iova !== undefined ? `${hex(iova)}${size ? `–${hex(iova + size - 1)}` : ''}` : `[${i}]`;
  const children: InspectorNode[] = [];
  const nested = pick(v, 'children', 'entries');
  if (Array.isArray(nested)) children.push(...nested.map((x, j) => entryNode(x, j)));
  else {
    const next = pick(v, 'next', 'child');
    if (next !== undefined && typeof next === 'object') children.push(tableRoot('next level', next));
  }
  return {
    label: `${slot}${pa ? `${range} → ${pa}` : range}`,
    description: [perms, type, size ? sizeText(size) : undefined].filter(Boolean).join(' · ') || undefined,
    tooltip: raw ? `descriptor ${raw}` : undefined,
    kind: 'entry', icon: type === 'block' ? 'symbol-module' : type === 'table' ? 'table' : 'symbol-constant',
    children: children.length ? children : raw ? [{ label: 'descriptor', description: raw, kind: 'value' }] : undefined,
  };
}

function looksLikeIovad(v: unknown): boolean {
  return isObj(v) && v.ranges !== undefined && (v.granule !== undefined || v.startPfn !== undefined);
}

/** An IOVA allocator (emulator/src/iova.ts inspect(): granule, ranges, rcaches...). */
function iovadNode(v: unknown, i: number): InspectorNode {
  if (!isObj(v)) return { label: `allocator ${i}`, description: str(v), kind: 'group', icon: 'symbol-array' };
  const id = str(pick(v, 'name', 'id'));
  const name = id !== undefined ? `iovad ${id}` : `allocator ${i}`;
  const ranges = list(pick(v, 'ranges', 'allocated') ?? []);
  const children: InspectorNode[] = [{
    label: 'Allocated ranges', description: `${ranges.length}`, kind: 'group', icon: 'symbol-array',
    children: ranges.map((r, j) => rangeNode(r, j)),
  }];
  for (const [k, x] of Object.entries(v)) {
    if (['name', 'id', 'ranges', 'allocated'].includes(k)) continue;
    children.push(generic(k, x));
  }
  const granule = num(v.granule);
  return { label: name, description: granule ? `granule ${sizeText(granule)}` : undefined, kind: 'group', icon: 'symbol-array', children };
}

function rangeNode(v: unknown, i: number): InspectorNode {
  if (!isObj(v)) return { label: `range ${i}`, description: str(v), kind: 'range', icon: 'symbol-number' };
  const start = num(pick(v, 'start', 'iova', 'base'));
  const size = num(pick(v, 'size', 'length'));
  const lo = str(pick(v, 'pfnLo', 'pfn_lo', 'lo'));
  const hi = str(pick(v, 'pfnHi', 'pfn_hi', 'hi'));
  const label = start !== undefined && size ? `${hex(start)}–${hex(start + size - 1)}` : lo && hi ? `pfn ${lo}–${hi}` : `range ${i}`;
  const flags = Object.entries(v).filter(([, x]) => x === true).map(([k]) => k);
  return {
    label, description: [size ? sizeText(size) : undefined, lo && hi ? `pfn ${lo}–${hi}` : undefined, ...flags].filter(Boolean).join(' · ') || undefined,
    kind: 'range', icon: 'symbol-number',
  };
}

function regionNode(v: unknown, i: number): InspectorNode {
  if (!isObj(v)) return { label: `region ${i}`, description: str(v), kind: 'region', icon: 'lock' };
  const start = num(pick(v, 'start', 'base', 'iova'));
  const length = num(pick(v, 'length', 'size'));
  const type = str(pick(v, 'type', 'kind'));
  return {
    label: start !== undefined && length ? `${hex(start)}–${hex(start + length - 1)}` : `region ${i}`,
    description: [type, length ? sizeText(length) : undefined].filter(Boolean).join(' · ') || undefined,
    kind: 'region', icon: 'lock',
  };
}

function eventChildren(v: unknown): InspectorNode[] {
  // emulator/src/system.ts: `recent` holds the last records written, read (consumed) or pending
  const items = isObj(v) && Array.isArray(v.recent) && v.recent.length ? v.recent as unknown[]
    : isObj(v) && Array.isArray(v.entries ?? v.records ?? v.events ?? v.pending) ? (v.entries ?? v.records ?? v.events ?? v.pending) as unknown[] : list(v);
  return items.map((e, i) => {
    if (!isObj(e)) return { label: str(e) ?? `event ${i}`, kind: 'event' as const, icon: 'warning' };
    const type = str(pick(e, 'type', 'kind', 'id', 'event'));
    const text = str(pick(e, 'text', 'message', 'desc'));
    const sidv = pick(e, 'sid', 'streamId');
    const sid = typeof sidv === 'number' ? hex(sidv) : str(sidv);
    const addr = str(pick(e, 'addr', 'iova', 'input'));
    const ssid = str(e.ssid);
    return {
      label: type ?? `event ${i}`, description: text ?? [sid && `SID ${sid}`, ssid && `SSID ${ssid}`, addr, e.pending === true ? 'pending' : e.pending === false ? 'read by the driver' : undefined].filter(Boolean).join(' · '),
      tooltip: JSON.stringify(e, null, 2), kind: 'event' as const, icon: /fault|F_|C_BAD/i.test(type ?? '') ? 'error' : 'warning',
    };
  });
}

function genericChildren(v: unknown): InspectorNode[] {
  if (Array.isArray(v)) return v.map((x, i) => generic(`[${i}]`, x));
  if (isObj(v)) return Object.entries(v).map(([k, x]) => generic(k, x));
  return [{ label: str(v) ?? '', kind: 'value' }];
}

/** Any value: scalars inline, objects and arrays as expandable nodes. */
function generic(key: string, v: unknown): InspectorNode {
  const s = str(v);
  if (s !== undefined || v === undefined || v === null) return { label: key, description: s ?? String(v), kind: 'value' };
  if (Array.isArray(v)) {
    if (v.every((x) => str(x) !== undefined) && v.length <= 8) return { label: key, description: v.map((x) => str(x)).join(', ') || '[]', kind: 'value' };
    return { label: key, description: `${v.length}`, kind: 'group', icon: 'symbol-array', children: genericChildren(v) };
  }
  if (key === 'reservedRegions' || key === 'reserved') return { label: key, kind: 'group', icon: 'lock', children: list(v).map((x, i) => regionNode(x, i)) };
  if (looksLikeIovad(v)) return iovadNode(v, 0);
  return { label: key, kind: 'group', icon: 'symbol-object', children: genericChildren(v) };
}

/** One band of the IOVA-space picture. */
export interface IovaSegment {
  start: number;
  size: number;
  kind: 'allocated' | 'reserved' | 'mapped';
  label: string;
}

/**
 * The IOVA-space picture's bands: allocator ranges, reserved regions and page-table mappings
 * found anywhere in the snapshot (searched by shape, as the layout may change).
 */
export function iovaSegments(snapshot: unknown): IovaSegment[] {
  const out: IovaSegment[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, key: string, depth: number): void => {
    if (depth > 12 || v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) { v.forEach((x) => walk(x, key, depth + 1)); return; }
    const o = v as Obj;
    const isRegionList = /reserved|resv/i.test(key);
    const start = num(pick(o, 'start', 'iova', 'base'));
    const size = num(pick(o, 'size', 'length'));
    if (start !== undefined && size) {
      if (isRegionList || o.type === 'msi' || o.type === 'reserved' || o.type === 'direct') {
        out.push({ start, size, kind: 'reserved', label: `${str(o.type) ?? 'reserved'} ${hex(start)}+${sizeText(size)}` });
      } else if (o.pfnLo !== undefined || /ranges|allocated/i.test(key)) {
        out.push({ start, size, kind: 'allocated', label: `IOVA ${hex(start)}+${sizeText(size)}` });
      } else if (pick(o, 'pa', 'paddr', 'phys', 'oa') !== undefined && o.type !== 'table') {
        out.push({ start, size, kind: 'mapped', label: `${hex(start)}+${sizeText(size)} → ${str(pick(o, 'pa', 'paddr', 'phys', 'oa'))}` });
      }
    }
    for (const [k, x] of Object.entries(o)) walk(x, k, depth + 1);
  };
  // The snapshot's `config` repeats the reserved regions the IOMMU core reports: skip it.
  walk(isObj(snapshot) ? Object.fromEntries(Object.entries(snapshot).filter(([k]) => k !== 'config')) : snapshot, '', 0);
  const seen2 = new Set<string>();
  return out.filter((x) => { const k = `${x.kind}|${x.start}|${x.size}|${x.label}`; if (seen2.has(k)) return false; seen2.add(k); return true; }).sort((a, b) => a.start - b.start || a.kind.localeCompare(b.kind));
}
