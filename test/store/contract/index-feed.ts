/**
 * Contract: the index change feed (appendIndexChanges, listIndexChanges, indexFeedHead,
 * trimIndexChanges, and watchIndexChanges where a store has it).
 */
import type { IndexFeedStore } from '../../../src/store/index-feed-store';
import type { ContractContext } from './context';
import { A, at, B } from './fixtures';

export function indexFeedCases(ctx: ContractContext<IndexFeedStore>): void {
  describe('index change feed', () => {
    const feed = () => ctx.store();
    it('appends in order with increasing seqs, returns them, and lists after a position', async () => {
      const head0 = await feed().indexFeedHead();
      expect(head0.feedId).toMatch(/^[0-9a-f]{16,}$/);
      expect(await feed().appendIndexChanges(A, [], at(1))).toEqual([]);
      const s1 = await feed().appendIndexChanges(A, [{ setId: 's1', productId: 'p1' }, { setId: 's2' }], at(5));
      const s2 = await feed().appendIndexChanges(B, [{ setId: 's1', productId: 'p\u{10000}' }], at(6));
      expect(s1).toHaveLength(2);
      expect(s1[1]).toBeGreaterThan(s1[0]);
      expect(s2[0]).toBeGreaterThan(s1[1]);
      expect(s1[0]).toBeGreaterThan(head0.seq);
      const all = await feed().listIndexChanges(head0.seq, 10);
      expect(all).toEqual([
        { ...A, seq: s1[0], setId: 's1', productId: 'p1', time: at(5) },
        { ...A, seq: s1[1], setId: 's2', time: at(5) },
        { ...B, seq: s2[0], setId: 's1', productId: 'p\u{10000}', time: at(6) },
      ]);
      expect(all[0].time).toBeInstanceOf(Date);
      expect(await feed().listIndexChanges(s1[0], 1)).toEqual([all[1]]);
      expect(await feed().listIndexChanges(s2[0], 10)).toEqual([]);
      expect(await feed().listIndexChanges(head0.seq, 0)).toEqual([]);
      expect(await feed().indexFeedHead()).toEqual({ feedId: head0.feedId, seq: s2[0] });
    });

    it('pushes appends where it can (a stop function, then onAppend after an append), or resolves undefined at once', async () => {
      const store = feed();
      if (!store.watchIndexChanges) return; // no push: readers poll
      let appended = 0;
      const errors: unknown[] = [];
      const stop = await store.watchIndexChanges(
        () => appended++,
        (err) => errors.push(err),
      );
      if (!stop) return; // this server has none (jongodb; a standalone mongod)
      await store.appendIndexChanges(A, [{ setId: 's1', productId: 'pushed' }], at(1));
      for (const until = Date.now() + 5000; appended === 0 && Date.now() < until;) await new Promise((r) => setTimeout(r, 10));
      expect(appended).toBeGreaterThan(0);
      await stop();
      expect(errors).toEqual([]);
    });

    it('trims changes stored before a time; seqs are never reused after a trim', async () => {
      const [old] = await feed().appendIndexChanges(A, [{ setId: 's1', productId: 'a' }], at(10));
      const [kept] = await feed().appendIndexChanges(A, [{ setId: 's1', productId: 'b' }], at(20));
      expect(await feed().trimIndexChanges(at(15))).toBe(1);
      expect((await feed().listIndexChanges(0, 10)).map((c) => c.seq)).toEqual([kept]);
      expect(await feed().trimIndexChanges(at(100))).toBe(1);
      expect(await feed().listIndexChanges(0, 10)).toEqual([]);
      const [next] = await feed().appendIndexChanges(A, [{ setId: 's1' }], at(30));
      expect(next).toBeGreaterThan(kept);
      expect(old).toBeLessThan(kept);
      expect((await feed().indexFeedHead()).seq).toBe(next);
    });

    it('concurrent appends never share a seq', async () => {
      const batches = await Promise.all(
        Array.from({ length: 8 }, (_, i) => feed().appendIndexChanges(A, [{ setId: `s${i}`, productId: 'p' }, { setId: `s${i}` }], at(1))),
      );
      const seqs = batches.flat();
      expect(new Set(seqs).size).toBe(16);
      expect((await feed().listIndexChanges(0, 100)).map((c) => c.seq)).toEqual([...seqs].sort((a, b) => a - b));
    });
  });
}
