/** MethodTable.bind: RPC handlers come from the protos' service definitions, and a hole stops the start. */
import { loadRoot } from '../../src/api/proto/load';
import { MethodTable, OPERATIONS } from '../../src/api/method-table';
import type { CallContext } from '../../src/core/context';

const root = loadRoot();
const ctx = {} as CallContext;
const OPS = ['ListOperations', 'GetOperation', 'DeleteOperation', 'CancelOperation', 'WaitOperation'].map((m) => `${OPERATIONS}/${m}`);

class Reads {
  async getOperation(req: unknown) {
    return { got: req };
  }
  async listOperations() {
    return 'list';
  }
}
class Writes {
  async deleteOperation() {
    return 'delete';
  }
  async cancelOperation() {
    return 'cancel';
  }
}
const WAIT = { [`${OPERATIONS}/WaitOperation`]: 'poll instead' };

test('every RPC the proto declares is bound to the lower-camel method of the one object that has it', async () => {
  const reads = new Reads();
  const table = MethodTable.bind(root, { [OPERATIONS]: [reads, new Writes()] }, WAIT);
  expect(table.methods().sort()).toEqual([...OPS].sort());
  await expect(table.get(`${OPERATIONS}/GetOperation`)({ name: 'n' }, ctx)).resolves.toEqual({ got: { name: 'n' } });
  await expect(table.get(`${OPERATIONS}/CancelOperation`)({}, ctx)).resolves.toBe('cancel');
  await expect(table.get(`${OPERATIONS}/WaitOperation`)({}, ctx)).rejects.toMatchObject({
    code: 12,
    message: 'Method google.longrunning.Operations.WaitOperation is not implemented by this server: poll instead',
  });
  expect(() => table.get('google.longrunning.Operations/Nope')).toThrow(/not implemented/);
});

test('an RPC without a handler stops the binding, naming the RPC and the method looked for', () => {
  expect(() => MethodTable.bind(root, { [OPERATIONS]: [new Reads()] }, WAIT)).toThrow(
    /google\.longrunning\.Operations\/DeleteOperation has no handler: none of Reads has a method deleteOperation[\s\S]*CancelOperation has no handler/,
  );
  // Without its refusal, WaitOperation is a hole too.
  expect(() => MethodTable.bind(root, { [OPERATIONS]: [new Reads(), new Writes()] })).toThrow(/WaitOperation has no handler/);
});

test('two handlers for one RPC, a refusal of an implemented RPC, and a refusal of an unknown RPC are refused', () => {
  expect(() => MethodTable.bind(root, { [OPERATIONS]: [new Reads(), new Writes(), new Reads()] }, WAIT)).toThrow(
    /GetOperation has two handlers: Reads\.getOperation, Reads\.getOperation/,
  );
  const refuseGet = { ...WAIT, [`${OPERATIONS}/GetOperation`]: 'no' };
  expect(() => MethodTable.bind(root, { [OPERATIONS]: [new Reads(), new Writes()] }, refuseGet)).toThrow(
    /GetOperation is listed as unimplemented but Reads\.getOperation implements it/,
  );
  const unknown = { ...WAIT, [`${OPERATIONS}/Frobnicate`]: 'no' };
  expect(() => MethodTable.bind(root, { [OPERATIONS]: [new Reads(), new Writes()] }, unknown)).toThrow(
    /Operations\/Frobnicate is listed as unimplemented but no served service declares it/,
  );
});

test('a service the protos do not declare is an error, not an empty binding', () => {
  expect(() => MethodTable.bind(root, { 'metapixel.v1.Nothing': [new Reads()] })).toThrow(/no such service/i);
});
