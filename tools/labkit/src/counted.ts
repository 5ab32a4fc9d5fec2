import type { KvClerk } from '@flotilla/linearizability';

/**
 * `clerk` with each completed call reported to `onOp` (the lab's `cfg.op()` in its
 * Get/Put/Append wrappers: counted on return, so a call that never completes is not).
 */
export function countedClerk(clerk: KvClerk, onOp: () => void): KvClerk {
  return {
    get: async (key) => {
      const value = await clerk.get(key);
      onOp();
      return value;
    },
    put: async (key, value) => {
      const out = await clerk.put(key, value);
      onOp();
      return out;
    },
    append: async (key, value) => {
      const out = await clerk.append(key, value);
      onOp();
      return out;
    },
  };
}
