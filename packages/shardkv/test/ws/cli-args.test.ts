import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli-args.js';
import { UsageError } from '../../src/index.js';

const CTRLERS = '--ctrlers=ws://127.0.0.1:7001,ws://127.0.0.1:7002,ws://127.0.0.1:7003';
const PEERS = '--peers=ws://127.0.0.1:8001,ws://127.0.0.1:8002,ws://127.0.0.1:8003';

describe('flotilla-shardkv arguments', () => {
  it('reads serve with its group, id, peers, controller and data dir', () => {
    const command = parseCli(
      [
        'serve',
        '--gid',
        '100',
        '--id',
        '2',
        PEERS,
        CTRLERS,
        '--data-dir',
        '/d',
        '--maxraftstate',
        '4096',
      ],
      {},
    );
    expect(command).toEqual({
      command: 'serve',
      gid: 100,
      id: 2,
      peers: ['ws://127.0.0.1:8001', 'ws://127.0.0.1:8002', 'ws://127.0.0.1:8003'],
      ctrlers: ['ws://127.0.0.1:7001', 'ws://127.0.0.1:7002', 'ws://127.0.0.1:7003'],
      dataDir: '/d',
      authToken: undefined,
      maxraftstate: 4096,
    });
  });

  it('reads the clerk commands, the token from the environment', () => {
    expect(parseCli(['put', CTRLERS, 'k', 'v'], { FLOTILLA_AUTH_TOKEN: 't' })).toMatchObject({
      command: 'put',
      key: 'k',
      value: 'v',
      authToken: 't',
    });
    expect(parseCli(['get', CTRLERS, 'k'], {})).toMatchObject({
      command: 'get',
      key: 'k',
      value: '',
    });
    expect(parseCli(['--help'], {})).toEqual({ command: 'help' });
  });

  it('refuses what it cannot run with UsageError', () => {
    const bad = [
      ['serve', '--id', '0', PEERS, CTRLERS, '--data-dir', '/d'], // no --gid
      ['serve', '--gid', '0', '--id', '0', PEERS, CTRLERS, '--data-dir', '/d'], // gid 0
      ['serve', '--gid', '1', '--id', '3', PEERS, CTRLERS, '--data-dir', '/d'], // id past peers
      ['serve', '--gid', '1', '--id', '0', PEERS, CTRLERS], // no data dir
      ['serve', '--gid', '1', '--id', '0', PEERS, '--data-dir', '/d'], // no controller
      ['get', CTRLERS], // no key
      ['put', CTRLERS, 'k'], // no value
      ['get', '--ctrlers', 'http://x:1', 'k'],
      ['get', CTRLERS, '--gid', '1', 'k'], // a flag get does not take
      ['drop', CTRLERS],
      ['get', CTRLERS, '--nope', 'k'],
    ];
    for (const argv of bad) expect(() => parseCli(argv, {}), argv.join(' ')).toThrow(UsageError);
  });
});
