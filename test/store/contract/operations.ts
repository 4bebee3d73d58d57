/**
 * Contract: long-running operations and their leases.
 */
import type { OperationStore } from '../../../src/store/operation-store';
import { itUnlessGap } from './context';
import type { ContractContext } from './context';
import { A, at, B, C, opName, operation } from './fixtures';

const ALL = { limit: 100 };
const LEASE = 30_000;
const { project } = A;
const name = (id: string) => opName(project, A.location, id);

function recordCases(ctx: ContractContext<OperationStore>): void {
  describe('operations', () => {
    it('round-trips every field, with and without a location', async () => {
      const full = operation(project, A.location, 'op1', {
        done: true,
        response: { productSets: [{ name: 'x' }], n: 3, nested: [null, true, 'ß'] },
        error: { code: 13, message: 'boom' },
        checkpoint: { line: 17 },
        cancelRequested: true,
        leaseOwner: 'w1',
        leaseUntil: at(999),
      });
      const bare = operation(project, null, 'op1', { request: null, metadata: [1, 'two'] });
      await ctx.store().createOperation(full);
      await ctx.store().createOperation(bare);
      expect(await ctx.store().getOperation(name('op1'))).toEqual(full);
      const got = await ctx.store().getOperation(opName(project, null, 'op1'));
      expect(got).toEqual(bare);
      for (const k of ['response', 'error', 'checkpoint', 'leaseOwner', 'leaseUntil'] as const) {
        expect(got).not.toHaveProperty(k); // absent, not null
      }
      expect(await ctx.store().getOperation(opName(project, null, 'nope'))).toBeNull();
    });

    it('lists project-level and location operations apart', async () => {
      await ctx.store().createOperation(operation(project, null, 'a'));
      await ctx.store().createOperation(operation(project, A.location, 'b'));
      await ctx.store().createOperation(operation(project, 'other', 'c'));
      const list = async (location: string | null) => (await ctx.store().listOperations({ project, location }, ALL)).map((o) => o.id);
      expect(await list(null)).toEqual(['a']);
      expect(await list(A.location)).toEqual(['b']);
      expect(await list('other')).toEqual(['c']);
    });

    it('update patches only the given fields and sets updateTime', async () => {
      const rec = operation(project, A.location, 'op1', { checkpoint: { line: 1 } });
      await ctx.store().createOperation(rec);
      const patchA = { metadata: { progress: 50 }, checkpoint: { line: 9 } };
      const a = await ctx.store().updateOperation(name('op1'), patchA, at(10));
      const afterA = { ...rec, metadata: { progress: 50 }, checkpoint: { line: 9 }, updateTime: at(10) };
      expect(a).toEqual(afterA);
      const patchB = { done: true, cancelRequested: true, error: { code: 1, message: 'cancelled' }, response: { ok: 1 } };
      const b = await ctx.store().updateOperation(name('op1'), patchB, at(20));
      const afterB = { ...afterA, ...patchB, updateTime: at(20) };
      expect(b).toEqual(afterB);
      expect(await ctx.store().getOperation(name('op1'))).toEqual(afterB);
      expect(await ctx.store().updateOperation(name('nope'), { done: true }, at(30))).toBeNull();
      expect(await ctx.store().getOperation(name('nope'))).toBeNull();
    });

    it('delete removes it once', async () => {
      await ctx.store().createOperation(operation(project, null, 'op1'));
      expect(await ctx.store().deleteOperation(opName(project, null, 'op1'))).toBe(true);
      expect(await ctx.store().deleteOperation(opName(project, null, 'op1'))).toBe(false);
      expect(await ctx.store().getOperation(opName(project, null, 'op1'))).toBeNull();
    });
  });
}

function claimCases(ctx: ContractContext<OperationStore>): void {
  describe('operation leases', () => {
    it('claims the oldest claimable operation and never a done one', async () => {
      await ctx.store().createOperation(operation(project, A.location, 'done', { createTime: at(-100), done: true }));
      await ctx.store().createOperation(operation(project, A.location, 'newer', { createTime: at(20) }));
      await ctx.store().createOperation(operation(project, null, 'older', { createTime: at(10) }));
      const first = await ctx.store().claimOperation('w1', at(1000), LEASE);
      expect(first).toMatchObject({ id: 'older', location: null, leaseOwner: 'w1', leaseUntil: at(1000 + LEASE) });
      expect(await ctx.store().getOperation(opName(project, null, 'older'))).toEqual(first);
      expect((await ctx.store().claimOperation('w2', at(1000), LEASE))?.id).toBe('newer');
      expect(await ctx.store().claimOperation('w3', at(1000), LEASE)).toBeNull();
      // Leases expire, but a done operation is never handed out again.
      await ctx.store().updateOperation(opName(project, null, 'older'), { done: true }, at(1001));
      expect((await ctx.store().claimOperation('w4', at(1000 + LEASE), LEASE))?.id).toBe('newer');
      await ctx.store().updateOperation(name('newer'), { done: true }, at(1002));
      expect(await ctx.store().claimOperation('w5', at(1e9), LEASE)).toBeNull();
    });

    itUnlessGap(ctx.gaps.atomicClaim, 'gives one operation to exactly one of several concurrent claimers', async () => {
      await ctx.store().createOperation(operation(project, A.location, 'only'));
      const got = await Promise.all(['w1', 'w2', 'w3'].map((w) => ctx.store().claimOperation(w, at(100), LEASE)));
      const winners = got.filter((o) => o !== null);
      expect(winners).toHaveLength(1);
      expect((await ctx.store().getOperation(name('only')))?.leaseOwner).toBe(winners[0]?.leaseOwner);
    });

    itUnlessGap(ctx.gaps.atomicClaim, 'hands out distinct operations to concurrent claimers', async () => {
      for (const id of ['a', 'b']) await ctx.store().createOperation(operation(project, A.location, id));
      const got = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((w) => ctx.store().claimOperation(w, at(100), LEASE)));
      const claimed = got.flatMap((o) => (o ? [o.id] : []));
      expect(claimed.sort()).toEqual(['a', 'b']);
    });

    it('a lease is exclusive until it expires, then claimable again', async () => {
      await ctx.store().createOperation(operation(project, A.location, 'op1'));
      await ctx.store().claimOperation('w1', at(0), 1000);
      expect(await ctx.store().claimOperation('w2', at(999), 1000)).toBeNull();
      const retaken = await ctx.store().claimOperation('w2', at(1000), 1000); // expiry is inclusive
      expect(retaken).toMatchObject({ leaseOwner: 'w2', leaseUntil: at(2000) });
      expect(await ctx.store().renewLease(name('op1'), 'w1', at(1001), 1000)).toBe(false); // lost
    });

    it('renewLease extends only a lease the caller holds', async () => {
      await ctx.store().createOperation(operation(project, A.location, 'op1'));
      await ctx.store().claimOperation('w1', at(0), 1000);
      expect(await ctx.store().renewLease(name('op1'), 'w2', at(500), 1000)).toBe(false);
      expect((await ctx.store().getOperation(name('op1')))?.leaseUntil).toEqual(at(1000));
      expect(await ctx.store().renewLease(name('op1'), 'w1', at(500), 1000)).toBe(true);
      expect((await ctx.store().getOperation(name('op1')))?.leaseUntil).toEqual(at(1500));
      expect(await ctx.store().claimOperation('w2', at(1200), 1000)).toBeNull();
      expect(await ctx.store().renewLease(name('nope'), 'w1', at(500), 1000)).toBe(false);
    });

    it('releaseLease frees the lease for its owner only', async () => {
      await ctx.store().createOperation(operation(project, A.location, 'op1'));
      await ctx.store().claimOperation('w1', at(0), 1000);
      await ctx.store().releaseLease(name('op1'), 'w2');
      expect((await ctx.store().getOperation(name('op1')))?.leaseOwner).toBe('w1');
      await ctx.store().releaseLease(name('op1'), 'w1');
      const released = await ctx.store().getOperation(name('op1'));
      expect(released).not.toHaveProperty('leaseOwner');
      expect(released).not.toHaveProperty('leaseUntil');
      expect((await ctx.store().claimOperation('w2', at(1), 1000))?.leaseOwner).toBe('w2');
      expect(await ctx.store().renewLease(name('op1'), 'w1', at(2), 1000)).toBe(false);
    });
  });
}

/** The same id under A, B (same project) and C (a project named with A's as prefix). */
function isolationCases(ctx: ContractContext<OperationStore>): void {
  describe('operation scope isolation', () => {
    it('the same id in two projects and two locations never leaks across, in reads or writes', async () => {
      const tag = (s: { project: string; location: string }) => `${s.project}:${s.location}`;
      for (const s of [A, B, C]) await ctx.store().createOperation(operation(s.project, s.location, 'op', { kind: tag(s) }));
      await ctx.store().updateOperation(opName(A.project, A.location, 'op'), { done: true }, at(9));
      for (const s of [A, B, C]) {
        const got = await ctx.store().getOperation(opName(s.project, s.location, 'op'));
        expect(got?.kind).toBe(tag(s));
        expect(got?.done).toBe(s === A);
        expect((await ctx.store().listOperations(s, ALL)).map((r) => r.kind)).toEqual([tag(s)]);
      }
      expect(await ctx.store().deleteOperation(opName(B.project, B.location, 'op'))).toBe(true);
      expect(await ctx.store().getOperation(opName(A.project, A.location, 'op'))).not.toBeNull();
      expect(await ctx.store().getOperation(opName(C.project, C.location, 'op'))).not.toBeNull();
    });
  });
}

export function operationCases(ctx: ContractContext<OperationStore>): void {
  recordCases(ctx);
  claimCases(ctx);
  isolationCases(ctx);
}
