import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli-args.js';
import { UsageError } from '../../src/errors.js';

const PEERS = 'ws://127.0.0.1:7001,ws://127.0.0.1:7002,ws://127.0.0.1:7003';

describe('flotilla-kvraft arguments', () => {
  it('parses serve with its defaults, the token from the environment', () => {
    expect(
      parseCli(['serve', '--id', '1', '--peers', PEERS, '--data-dir', 'd'], {
        FLOTILLA_AUTH_TOKEN: 'secret',
      }),
    ).toEqual({
      command: 'serve',
      id: 1,
      peers: PEERS.split(','),
      dataDir: 'd',
      authToken: 'secret',
      maxraftstate: -1,
    });
    const command = parseCli(
      ['serve', '--id=0', `--peers=${PEERS}`, '--data-dir=d', '--maxraftstate', '65536'],
      {},
    );
    expect(command).toMatchObject({ maxraftstate: 65536, authToken: undefined });
  });

  it('parses the clerk commands and bench, with etcd-load.mjs defaults', () => {
    expect(parseCli(['append', '--servers', PEERS, 'k', 'v'], {})).toMatchObject({
      command: 'append',
      key: 'k',
      value: 'v',
    });
    expect(parseCli(['get', '--servers', PEERS, 'k'], {})).toMatchObject({ key: 'k', value: '' });
    expect(parseCli(['bench', '--servers', PEERS, '--n', '500'], {})).toMatchObject({
      op: 'put',
      clients: 1,
      n: 500,
      warmup: 50,
      keys: 10_000,
      valueBytes: 128,
      maxSeconds: 60,
      json: false,
    });
    expect(parseCli([], {})).toEqual({ command: 'help' });
    expect(parseCli(['serve', '--help'], {})).toEqual({ command: 'help' });
  });

  it.each([
    [['frobnicate'], /unknown command/],
    [['serve', '--peers', PEERS, '--data-dir', 'd'], /--id wants an integer/],
    [['serve', '--id', '3', '--peers', PEERS, '--data-dir', 'd'], /not an index of --peers/],
    [['serve', '--id', '0', '--peers', PEERS], /needs --data-dir/],
    [['serve', '--id', '0', '--peers', 'http://x:1', '--data-dir', 'd'], /ws:\/\/host:port/],
    [['serve', '--id', '0', '--peers', 'ws://x', '--data-dir', 'd'], /ws:\/\/host:port/],
    [['serve', '--id', '0', '--peers', PEERS, '--data-dir', 'd', '--maxraftstate', '0'], /≥ 1/],
    [
      ['serve', '--id', '0', '--peers', PEERS, '--data-dir', 'd', '--servers', PEERS],
      /does not take --servers/,
    ],
    [['get', '--servers', PEERS], /needs KEY/],
    [['put', '--servers', PEERS, 'k'], /needs KEY VALUE/],
    [['get', 'k'], /needs --servers/],
    [['get', '--servers', PEERS, '--id', '1', 'k'], /does not take --id/],
    [['bench', '--servers', PEERS, '--op', 'cas'], /--op wants put or get/],
    [['bench', '--servers', PEERS, '--clients', '0'], /--clients wants an integer ≥ 1/],
    [['get', '--servers', PEERS, '--nope', 'k'], /Unknown option/],
  ])('refuses %j with a UsageError', (argv, message) => {
    expect(() => parseCli(argv, {})).toThrow(UsageError);
    expect(() => parseCli(argv, {})).toThrow(message);
  });
});
