/**
 * The SMMU's other two channels to the driver (shared/seeds/002, 2.1: "priq ... gerror"):
 * page requests from ATS/PRI devices go through the PRI queue and are answered with
 * CMD_PRI_RESP; global errors toggle a GERROR bit, the driver's handler reports them and
 * acknowledges through GERRORN. Encodings from arm-smmu-v3.h (6.12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CERROR, CMDQ_OP, createSystem, GERROR, GERROR_ERR_MASK, PRI_RESP } from '../../emulator/src/index';
import { prep } from '../../emulator/src/smmu-v3';

test('the constants are the kernel header\'s', () => {
  assert.equal(CMDQ_OP.PRI_RESP, 0x41);
  assert.deepEqual([GERROR.CMDQ_ERR, GERROR.EVTQ_ABT_ERR, GERROR.PRIQ_ABT_ERR, GERROR.SFM_ERR], [1, 4, 8, 0x100]);
  assert.equal(GERROR_ERR_MASK, 0x1fd);
  assert.deepEqual(CERROR, { NONE: 0, ILL: 1, ABT: 2, ATC_INV_SYNC: 3 });
  assert.deepEqual(PRI_RESP, { DENY: 0, FAIL: 1, SUCC: 2 });
});

function priSystem(pasids = 0) {
  const s = createSystem({ devices: [{ name: 'nic', streamId: 0x20, ssidBits: pasids, pri: true }] });
  return { s, nic: s.device('nic'), dev0: s.device('dev0') };
}

test('a page request is queued as a PRI record and denied with CMD_PRI_RESP (arm_smmu_handle_ppr)', () => {
  for (const [pasid, last] of [[0, true], [3, true], [3, false]] as const) {
    const { s, nic } = priSystem(4);
    s.drainEvents();
    const r = s.pageRequest(nic, pasid, 0x1234_5000, 'write', { grpid: 7, last });
    assert.equal(r, last ? 'DENY' : 'pending', `pasid ${pasid} last ${last}: 6.12 answers only the last request of a group`);
    const text = s.drainEvents().map((e) => e.text);
    assert.ok(text.includes('arm-smmu-v3: unexpected PRI request received:'));
    assert.ok(text.includes(`arm-smmu-v3:  sid 0x00000020.0x0000${pasid}: [7${last ? 'L' : ''}] unprivileged W access at iova 0x0000000012345000`), text.join('\n'));
    assert.equal(text.some((t) => t.startsWith(`CMD_PRI_RESP sid 0x20${pasid ? ` ssid 0x${pasid}` : ''} grpid 7 DENY`)), last);
    // the record stays in the ring: the inspector shows it, consumed
    const priq = (s.inspect().smmu as { priq: { recent: { sid: number; ssid: number | null; grpid: number; write: boolean; pending: boolean }[] } }).priq;
    assert.deepEqual(priq.recent.map((x) => [x.sid, x.ssid, x.grpid, x.write, x.pending]), [[0x20, pasid || null, 7, true, false]]);
  }
});

test('no PRI: a device without the capability, and an SMMU without a PRI queue', () => {
  const { s, dev0 } = priSystem();
  assert.equal(s.pageRequest(dev0, 0, 0x1000, 'read'), 'unsupported');
  const plain = createSystem();
  assert.equal(plain.pageRequest(plain.device('dev0'), 0, 0x1000, 'read'), 'unsupported');
  assert.deepEqual((plain.inspect().smmu as { priq: unknown }).priq, { present: false });
});

test('the PRI queue overflows instead of overwriting requests (64 entries)', () => {
  const { s, nic } = priSystem();
  // no priq thread: requests stay queued
  s.machine.smmu.onPriq = null;
  const got = Array.from({ length: 66 }, (_, i) => s.pageRequest(nic, 0, 0x10000 + i * 0x1000, 'read', { grpid: i % 512 }));
  assert.equal(got.filter((x) => x === 'pending').length, 64);
  assert.equal(got.filter((x) => x === 'lost').length, 2);
  assert.equal(s.counters().priLost, 2);
  s.machine.drv.priqThread();
  const text = s.drainEvents().map((e) => e.text);
  assert.ok(text.includes('arm-smmu-v3: PRIQ overflow detected -- requests lost'));
  assert.equal(text.filter((t) => t.startsWith('CMD_PRI_RESP')).length, 64);
});

test('an illegal command: GERROR.CMDQ_ERR, CMDQ_CONS.ERR = CERROR_ILL, the driver skips it and acknowledges', () => {
  // sweep: an unknown opcode, a CMD_PRI_RESP with the reserved Resp 0b11, CMD_PRI_RESP without PRI
  const cases: [string, [bigint, bigint], object][] = [
    ['unknown opcode 0x7f', [prep(0x7f, 7, 0), 0n], {}],
    ['reserved PRI response', [prep(CMDQ_OP.PRI_RESP, 7, 0) | prep(0x20, 63, 32), prep(3, 13, 12)], { devices: [{ name: 'nic', streamId: 0x20, pri: true }] }],
    ['CMD_PRI_RESP without PRI', [prep(CMDQ_OP.PRI_RESP, 7, 0), 0n], {}],
  ];
  for (const [label, cmd, cfg] of cases) {
    const s = createSystem(cfg);
    const smmu = s.machine.smmu;
    s.drainEvents();
    const syncs = s.counters().cmdSyncs;
    smmu.submit([cmd, [prep(CMDQ_OP.CMD_SYNC, 7, 0), 0n]]);
    const text = s.drainEvents().map((e) => e.text);
    assert.ok(text.some((t) => t.startsWith('GERROR.CMDQ_ERR raised')), label);
    assert.ok(text.includes('arm-smmu-v3: unexpected global error reported (0x00000001), this could be serious'), label);
    assert.ok(text.some((t) => /^arm-smmu-v3: CMDQ error \(cons 0x01[0-9a-f]{6}\): Illegal command$/.test(t)), `${label}: ${text.join(' | ')}`);
    assert.ok(text.some((t) => t.startsWith('arm-smmu-v3: skipping command in error state: ')), label);
    // the bad command became a CMD_SYNC: both syncs complete, the queue is empty again
    assert.equal(s.counters().cmdSyncs - syncs, 2, label);
    assert.equal(smmu.cmdq.cons, smmu.cmdq.prod, label);
    assert.equal(smmu.gerrorActive, 0, `${label}: acknowledged through GERRORN`);
    const g = (s.inspect().smmu as { gerror: { gerror: string; gerrorn: string; active: string[]; raised: string[] } }).gerror;
    assert.deepEqual([g.gerror, g.gerrorn, g.active, g.raised.length], ['0x00000001', '0x00000001', [], 1], label);
  }
});

test('without a driver to acknowledge it, a command error stalls the queue', () => {
  const s = createSystem();
  const smmu = s.machine.smmu;
  smmu.onGerror = null;
  smmu.submit([[prep(0x7f, 7, 0), 0n], [prep(CMDQ_OP.CMD_SYNC, 7, 0), 0n]]);
  assert.equal(smmu.gerrorActive, GERROR.CMDQ_ERR);
  assert.equal((smmu.cmdq.prod - smmu.cmdq.cons + 512) % 512, 2, 'CONS stays at the bad command');
  assert.equal(smmu.cmdqConsReg >>> 24, CERROR.ILL);
  const g = (s.inspect().smmu as { gerror: { active: string[] } }).gerror;
  assert.deepEqual(g.active, ['CMDQ_ERR']);
  // the handler runs late: skip, acknowledge, and the queue drains
  s.machine.drv.gerrorHandler();
  smmu.submit([]);
  assert.equal(smmu.cmdq.cons, smmu.cmdq.prod);
});

test('event queue: overflow sets PROD.OVFLG and the driver says so; no queue memory is EVTQ_ABT_ERR', () => {
  const s = createSystem();
  const sid = s.streamIdOf(s.device('dev0'));
  for (let i = 0; i < 130; i++) s.translate(sid, 0, 0x900000 + i * 0x1000, 'read');
  const evtq = (s.inspect().smmu as { evtq: { prod: string; overflow: boolean; recent: unknown[] } }).evtq;
  assert.equal(evtq.overflow, true);
  assert.ok(Number(evtq.prod) >= 2 ** 31, 'PROD.OVFLG');
  assert.equal(evtq.recent.length, 16);
  const text = s.drainEvents().map((e) => e.text);
  assert.ok(text.includes('arm-smmu-v3: EVTQ overflow detected -- events lost'));
  // a write to an event queue that is not there aborts
  s.machine.smmu.evtq.base = 0;
  s.translate(sid, 0, 0xa00000, 'read');
  const t2 = s.drainEvents().map((e) => e.text);
  assert.ok(t2.includes('arm-smmu-v3: EVTQ write aborted -- events may have been lost'), t2.join('\n'));
  assert.ok(t2.some((t) => t.startsWith('GERROR.EVTQ_ABT_ERR raised')));
});

test('a fork keeps its own GERROR, PRI queue and command queue', () => {
  const { s, nic } = priSystem();
  const f = s.fork();
  f.pageRequest(nic, 0, 0x2000, 'read');
  f.machine.smmu.submit([[prep(0x7f, 7, 0), 0n]]);
  assert.equal((s.inspect().smmu as { gerror: { raised: string[] } }).gerror.raised.length, 0);
  assert.equal((s.inspect().smmu as { priq: { recent: unknown[] } }).priq.recent.length, 0);
  assert.equal((f.inspect().smmu as { gerror: { raised: string[] } }).gerror.raised.length, 1);
  assert.equal((f.inspect().smmu as { priq: { recent: unknown[] } }).priq.recent.length, 1);
  // the fork's driver answers its own requests
  assert.equal(f.pageRequest(nic, 0, 0x3000, 'read', { grpid: 2 }), 'DENY');
});
