import { Code } from '../../src/core/errors';
import { InferenceQueue, InferenceSession, Tensor } from '../../src/vision/inference';

/** A fake session whose runs finish only when the test says so. */
class ManualSession implements InferenceSession {
  readonly inputNames = ['x'];
  readonly outputNames = ['y'];
  active = 0;
  maxActive = 0;
  closed = false;
  private readonly pending: { resolve: () => void; reject: (e: Error) => void }[] = [];

  async run(inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await new Promise<void>((resolve, reject) => this.pending.push({ resolve, reject }));
      return { y: inputs.x };
    } finally {
      this.active--;
    }
  }
  finishNext(err?: Error): void {
    const p = this.pending.shift();
    if (err) p?.reject(err);
    else p?.resolve();
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const input = (v: number): Record<string, Tensor> => ({ x: { data: Float32Array.of(v), dims: [1] } });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('InferenceQueue', () => {
  test('runs one at a time by default, in arrival order', async () => {
    const s = new ManualSession();
    const q = new InferenceQueue(s, 'm');
    const runs = [1, 2, 3].map((v) => q.run(input(v)));
    await tick();
    expect(q.load).toEqual({ running: 1, waiting: 2 });
    for (let i = 0; i < 3; i++) {
      s.finishNext();
      await tick();
    }
    expect((await Promise.all(runs)).map((r) => r.y.data[0])).toEqual([1, 2, 3]);
    expect(s.maxActive).toBe(1);
    expect(q.load).toEqual({ running: 0, waiting: 0 });
  });

  test('refuses with RESOURCE_EXHAUSTED when the wait list is full', async () => {
    const s = new ManualSession();
    const q = new InferenceQueue(s, 'm', { concurrency: 2, maxQueue: 1 });
    const ok = [q.run(input(1)), q.run(input(2)), q.run(input(3))];
    await expect(q.run(input(4))).rejects.toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
    await tick();
    expect(s.maxActive).toBe(2);
    for (let i = 0; i < 3; i++) {
      s.finishNext();
      await tick();
    }
    await Promise.all(ok);
  });

  test('a failed run frees its slot', async () => {
    const s = new ManualSession();
    const q = new InferenceQueue(s, 'm');
    const a = q.run(input(1));
    const b = q.run(input(2));
    await tick();
    s.finishNext(new Error('boom'));
    await expect(a).rejects.toThrow('boom');
    await tick();
    s.finishNext();
    await expect(b).resolves.toBeDefined();
  });

  test('close fails waiting runs with UNAVAILABLE, lets the running one finish, then closes', async () => {
    const s = new ManualSession();
    const q = new InferenceQueue(s, 'm');
    const running = q.run(input(1));
    const waiting = q.run(input(2));
    await tick();
    const closing = q.close();
    await expect(waiting).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    await expect(q.run(input(3))).rejects.toMatchObject({ code: Code.UNAVAILABLE });
    await tick();
    expect(s.closed).toBe(false);
    s.finishNext();
    await expect(running).resolves.toBeDefined();
    await closing;
    expect(s.closed).toBe(true);
    await q.close(); // idempotent
  });
});
