import { VirtualClock } from '@flotilla/transport';
import { Coordinator, type MapInput } from '../../src/index.js';
import { PROTOCOL_VERSION, type ReportReply, type TaskReply } from '../../src/protocol.js';

/**
 * A Coordinator on a virtual clock whose RPC handlers are called directly (no socket): two
 * 100-byte inputs, one reduce task, a 10 s task deadline and 60 s long polls unless told.
 */

export const STATS = { inputBytes: 100, records: 5, keys: 5, outputBytes: 50 };
export const inputs: MapInput[] = [
  { filename: 'a.txt', path: '/in/a.txt', bytes: 100 },
  { filename: 'b.txt', path: '/in/b.txt', bytes: 100 },
];

type Handler = (args: unknown, context: { peer: string }) => unknown;

export function virtualCoordinator(options: { longPollMs?: number } = {}) {
  const clock = new VirtualClock();
  const coordinator = new Coordinator(inputs, {
    nReduce: 1,
    dir: '/out',
    clock,
    taskTimeoutMs: 10_000,
    longPollMs: options.longPollMs ?? 60_000,
  });
  const invoke = (method: string, args: unknown): unknown =>
    (coordinator.service[method] as unknown as Handler)(args, { peer: 'test' });
  const request = (workerId: string) =>
    Promise.resolve(
      invoke('requestTask', { protocol: PROTOCOL_VERSION, workerId }),
    ) as Promise<TaskReply>;
  /** A report from `workerId`: done (with STATS) or failed (with a small error). */
  const report = (
    method: 'reportDone' | 'reportFailed',
    workerId: string,
    kind: 'map' | 'reduce',
    taskId: number,
    attempt: number,
  ) =>
    invoke(method, {
      protocol: PROTOCOL_VERSION,
      workerId,
      kind,
      taskId,
      attempt,
      ...(method === 'reportDone' ? { stats: STATS } : { error: { code: 'E', message: 'm' } }),
    }) as ReportReply;
  return { clock, coordinator, invoke, request, report };
}
