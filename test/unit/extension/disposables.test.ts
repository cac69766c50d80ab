import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { DisposableOwner } from '../../../src/extension/disposables';
import { Emitter, throttle } from '../../../src/extension/events';

describe('DisposableOwner', () => {
  it('disposes in reverse order, once, and keeps going past a failure', () => {
    const order: string[] = [];
    const errors: unknown[] = [];
    const owner = new DisposableOwner();
    owner.add({ dispose: () => order.push('proxy') });
    owner.add({
      dispose: () => {
        order.push('panel');
        throw new Error('boom');
      },
    });
    owner.addCallback(() => order.push('listener'));
    owner.dispose((error) => errors.push(error));
    owner.dispose();
    assert.deepEqual(order, ['listener', 'panel', 'proxy']);
    assert.equal(errors.length, 1);
    assert.equal(owner.isDisposed, true);
  });

  it('disposes what is added after it is gone', async () => {
    const owner = new DisposableOwner();
    owner.dispose();
    let disposed = false;
    owner.add({ dispose: () => (disposed = true) });
    await Promise.resolve();
    assert.equal(disposed, true);
  });
});

describe('Emitter and throttle', () => {
  it('delivers to every listener despite a throwing one, and unsubscribes', () => {
    const errors: unknown[] = [];
    const emitter = new Emitter<number>((error) => errors.push(error));
    const seen: number[] = [];
    emitter.event(() => {
      throw new Error('bad listener');
    });
    const subscription = emitter.event((value) => seen.push(value));
    emitter.fire(1);
    subscription.dispose();
    emitter.fire(2);
    assert.deepEqual(seen, [1]);
    assert.equal(errors.length, 2);
  });

  it('runs the first call at once and folds a burst into one trailing run', () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    try {
      let runs = 0;
      const throttled = throttle(() => runs++, 1000);
      throttled();
      assert.equal(runs, 1);
      for (let i = 0; i < 50; i++) throttled();
      assert.equal(runs, 1);
      mock.timers.tick(999);
      assert.equal(runs, 1);
      mock.timers.tick(1);
      assert.equal(runs, 2);
      mock.timers.tick(5000);
      assert.equal(runs, 2, 'no run without a call');
      throttled();
      assert.equal(runs, 3, 'a call after a quiet interval runs at once');
      throttled();
      throttled.dispose();
      mock.timers.tick(5000);
      assert.equal(runs, 3, 'a disposed throttle drops its pending run');
    } finally {
      mock.timers.reset();
    }
  });
});
