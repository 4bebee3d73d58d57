/**
 * Contract: per-item results of operations, kept in numbered chunks apart from the record.
 */
import type { OperationStore } from '../../../src/store/operation-store';
import type { ContractContext } from './context';
import { A, opName, operation } from './fixtures';

const { project } = A;
const name = (id: string) => opName(project, A.location, id);

export function operationResultCases(ctx: ContractContext<OperationStore>): void {
  describe('operation results', () => {
    it('lists chunks in order after a cursor, replaces a chunk written again, and keeps items as JSON', async () => {
      const s = ctx.store();
      await s.createOperation(operation(project, A.location, 'op1'));
      const items = (n: number) =>
        Array.from({ length: 3 }, (_, i) => ({ line: n * 3 + i, status: { code: i, message: 'ß $x a.b' }, ri: null }));
      // Written out of order, as a resumed job may.
      await s.putOperationResults(name('op1'), 2, items(2));
      await s.putOperationResults(name('op1'), 0, items(0));
      await s.putOperationResults(name('op1'), 10, items(10));
      await s.putOperationResults(name('op1'), 1, items(1));
      const all = await s.listOperationResults(name('op1'), -1, 100);
      expect(all).toEqual([0, 1, 2, 10].map((chunk) => ({ chunk, items: items(chunk) })));
      expect((await s.listOperationResults(name('op1'), 1, 2)).map((c) => c.chunk)).toEqual([2, 10]);
      expect(await s.listOperationResults(name('op1'), 10, 100)).toEqual([]);
      expect(await s.listOperationResults(name('op1'), -1, 0)).toEqual([]);
      // A chunk written twice (a job resumed after a crash) holds the last write only.
      await s.putOperationResults(name('op1'), 1, [{ again: true }]);
      expect((await s.listOperationResults(name('op1'), 0, 1))[0]).toEqual({ chunk: 1, items: [{ again: true }] });
    });

    it('keeps results per operation, and a deleted operation takes its results along', async () => {
      const s = ctx.store();
      await s.createOperation(operation(project, A.location, 'op1'));
      await s.createOperation(operation(project, A.location, 'op2'));
      await s.createOperation(operation(project, null, 'op1'));
      await s.putOperationResults(name('op1'), 0, ['a']);
      await s.putOperationResults(name('op2'), 0, ['b']);
      await s.putOperationResults(opName(project, null, 'op1'), 0, ['c']);
      expect(await s.listOperationResults(name('op2'), -1, 10)).toEqual([{ chunk: 0, items: ['b'] }]);
      expect(await s.listOperationResults(opName(project, null, 'op1'), -1, 10)).toEqual([{ chunk: 0, items: ['c'] }]);
      expect(await s.listOperationResults(opName('p10', A.location, 'op1'), -1, 10)).toEqual([]);
      expect(await s.deleteOperation(name('op1'))).toBe(true);
      expect(await s.listOperationResults(name('op1'), -1, 10)).toEqual([]);
      expect(await s.listOperationResults(name('op2'), -1, 10)).toEqual([{ chunk: 0, items: ['b'] }]);
      expect(await s.listOperationResults(opName(project, null, 'op1'), -1, 10)).toEqual([{ chunk: 0, items: ['c'] }]);
    });
  });
}
