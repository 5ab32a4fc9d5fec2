import { describe, expect, it } from 'vitest';
import { failureLine, integerFlag, urlListFlag } from '../src/index.js';

class Usage extends Error {}
const usage = (message: string) => new Usage(message);

describe('command-line flag parsers (urlListFlag, integerFlag)', () => {
  it('reads a list of ws://host:port urls, trimmed', () => {
    expect(urlListFlag('--peers', 'ws://a:1, ws://127.0.0.1:65535/', usage)).toEqual([
      'ws://a:1',
      'ws://127.0.0.1:65535/',
    ]);
  });

  it("refuses a missing list or a url of another form with the caller's error", () => {
    expect(() => urlListFlag('--peers', undefined, usage)).toThrow(/needs --peers/);
    for (const bad of ['http://a:1', 'ws://a', 'ws://a:1/path', 'a:1', '']) {
      expect(() => urlListFlag('--peers', bad, usage)).toThrow(Usage);
    }
  });

  it('reads decimal integers at or above the minimum, and nothing else', () => {
    expect(integerFlag('--id', '0', 0, usage)).toBe(0);
    expect(integerFlag('--n', '10000', 1, usage)).toBe(10000);
    for (const bad of [undefined, '', '-1', '1.5', '1e3', '0x10', ' 1', '9007199254740993']) {
      expect(() => integerFlag('--n', bad, 0, usage)).toThrow(Usage);
    }
    expect(() => integerFlag('--n', '0', 1, usage)).toThrow(/--n wants an integer ≥ 1, got "0"/);
  });

  it('prints a failure with its code, whatever package threw it', () => {
    class Corrupt extends Error {
      readonly code = 'ERR_CORRUPT_STATE';
    }
    expect(failureLine('flotilla-kvraft', new Corrupt('/d/raft.wal at byte 9: bad checksum'))).toBe(
      'flotilla-kvraft: /d/raft.wal at byte 9: bad checksum [ERR_CORRUPT_STATE]',
    );
    const system = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(failureLine('x', system)).toBe('x: listen EADDRINUSE [EADDRINUSE]');
    expect(failureLine('x', new Error('plain'))).toBe('x: plain');
    expect(failureLine('x', 'thrown text')).toBe('x: thrown text');
    expect(failureLine('x', Object.assign(new Error('n'), { code: 7 }))).toBe('x: n');
  });
});
