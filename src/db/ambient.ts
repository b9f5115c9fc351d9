import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db, Tx } from './client.js';

// A request that must commit as one (an Idempotency-Key write: the key and its answer are stored in the same
// transaction as the write) runs inside an ambient transaction: while one is set for the current async
// context, every statement sent through the wrapped `db` goes to it, and `db.transaction` becomes a savepoint
// of it. Outside such a request nothing changes.

export type AmbientStore = { tx?: Tx | undefined };
export const ambientTransaction = new AsyncLocalStorage<AmbientStore>();

export function ambientAware(db: Db): Db {
  return new Proxy(db, {
    get(target, prop) {
      const source: object = ambientTransaction.getStore()?.tx ?? target;
      const value: unknown = Reflect.get(source, prop, source);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(source) : value;
    },
  });
}
