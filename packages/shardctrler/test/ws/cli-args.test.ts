import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli-args.js';
import { UsageError } from '../../src/index.js';

const peers = 'ws://127.0.0.1:7001,ws://127.0.0.1:7002,ws://127.0.0.1:7003';

describe('flotilla-shardctrler arguments', () => {
  it('parses serve with --listen and the token from the environment', () => {
    expect(
      parseCli(
        ['serve', '--id', '1', '--peers', peers, '--data-dir', 'd', '--listen', '0.0.0.0:9000'],
        {
          FLOTILLA_AUTH_TOKEN: 't',
        },
      ),
    ).toEqual({
      command: 'serve',
      id: 1,
      peers: peers.split(','),
      dataDir: 'd',
      host: '0.0.0.0',
      port: 9000,
      authToken: 't',
      maxraftstate: -1,
    });
    const serve = parseCli(['serve', '--id', '0', '--peers', peers, '--data-dir', 'd'], {});
    expect(serve).toMatchObject({ host: undefined, port: undefined, authToken: undefined });
  });

  it('parses query, join (several groups), leave (several gids) and move', () => {
    const s = ['--servers', peers];
    expect(parseCli(['query', ...s], {})).toMatchObject({ command: 'query', num: -1 });
    expect(parseCli(['query', ...s, '4'], {})).toMatchObject({ num: 4 });
    const join = parseCli(['join', ...s, '1=a:1,b:2', '2=c:3'], {});
    expect(join).toMatchObject({ command: 'join' });
    expect([...(join as unknown as { groups: Map<number, string[]> }).groups]).toEqual([
      [1, ['a:1', 'b:2']],
      [2, ['c:3']],
    ]);
    expect(parseCli(['leave', ...s, '1', '2'], {})).toMatchObject({ gids: [1, 2] });
    expect(parseCli(['move', ...s, '3', '2'], {})).toMatchObject({ shard: 3, gid: 2 });
    expect(parseCli([], {})).toEqual({ command: 'help' });
  });

  it('refuses what it cannot run with UsageError', () => {
    const s = ['--servers', peers];
    for (const argv of [
      ['nope'],
      ['serve', '--peers', peers, '--data-dir', 'd'],
      ['serve', '--id', '3', '--peers', peers, '--data-dir', 'd'],
      ['serve', '--id', '0', '--peers', peers],
      ['serve', '--id', '0', '--peers', peers, '--data-dir', 'd', '--listen', 'nohost'],
      ['serve', '--id', '0', '--peers', 'http://x:1', '--data-dir', 'd'],
      ['query', ...s, 'latest'],
      ['query', '--peers', peers],
      ['join', ...s],
      ['join', ...s, '1'],
      ['join', ...s, 'x=a'],
      ['join', ...s, '1=a', '1=b'],
      ['leave', ...s],
      ['move', ...s, '1'],
      ['query', ...s, '--listen', 'h:1'],
    ]) {
      expect(() => parseCli(argv, {}), argv.join(' ')).toThrow(UsageError);
    }
  });
});
