/**
 * `flotilla-kvsrv` end to end: `serve` and the `get`/`put`/`append` commands as separate
 * processes of the built bin (dist/cli.js), plus unit tests of the argument parser.
 */
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { poll } from '@flotilla/devkit/time/within';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type CliCommand, parseCli, USAGE } from '../src/cli-args.js';
import { UsageError } from '../src/errors.js';
import { ensureBuilt, Procs, sleep, within } from './support/procs.js';

const procs = new Procs();

beforeAll(async () => {
  const built = await ensureBuilt();
  if (built.length > 0) console.info(`built ${built.join(', ')}`);
}, 180_000);

afterEach(() => procs.killAll());
afterAll(() => procs.killAll());

const FIRST_USAGE_LINE = 'usage:';

// ---------------------------------------------------------------------------------------------
// parseCli

describe('parseCli', () => {
  const parse = (argv: string[], env: Record<string, string | undefined> = {}): CliCommand =>
    parseCli(argv, env);

  test('serve', () => {
    expect(parse(['serve', '--listen', '127.0.0.1:7000'])).toEqual({
      command: 'serve',
      host: '127.0.0.1',
      port: 7000,
      authToken: undefined,
      maxKeyBytes: undefined,
      maxValueBytes: undefined,
    });
    expect(
      parse([
        'serve',
        '--listen=0.0.0.0:0',
        '--auth-token',
        's3cret',
        '--max-key-bytes',
        '64',
        '--max-value-bytes=1048576',
      ]),
    ).toEqual({
      command: 'serve',
      host: '0.0.0.0',
      port: 0,
      authToken: 's3cret',
      maxKeyBytes: 64,
      maxValueBytes: 1_048_576,
    });
    expect(parse(['serve', '--listen', '[::1]:65535'])).toMatchObject({ host: '::1', port: 65535 });
    expect(parse(['serve', '--listen', 'localhost:80'])).toMatchObject({
      host: 'localhost',
      port: 80,
    });
  });

  test('get, put, append', () => {
    expect(parse(['get', '--server', 'ws://h:1', 'k'])).toEqual({
      command: 'get',
      server: 'ws://h:1',
      authToken: undefined,
      key: 'k',
      value: '',
    });
    expect(parse(['put', 'k', 'v w', '--server', 'ws://h:1'])).toMatchObject({
      command: 'put',
      key: 'k',
      value: 'v w',
    });
    expect(parse(['append', '--server=ws://h:1', '', ''])).toMatchObject({
      command: 'append',
      key: '',
      value: '',
    });
    // Everything after `--` is a positional, even if it looks like a flag.
    expect(parse(['put', '--server', 'ws://h:1', '--', 'k', '--not-a-flag'])).toMatchObject({
      key: 'k',
      value: '--not-a-flag',
    });
  });

  test('the auth token: --auth-token, else FLOTILLA_AUTH_TOKEN (if not empty)', () => {
    const get = ['get', '--server', 'ws://h:1', 'k'];
    expect(parse(get, { FLOTILLA_AUTH_TOKEN: 'from-env' })).toMatchObject({
      authToken: 'from-env',
    });
    expect(parse([...get, '--auth-token', 'flag'], { FLOTILLA_AUTH_TOKEN: 'env' })).toMatchObject({
      authToken: 'flag',
    });
    expect(parse(get, { FLOTILLA_AUTH_TOKEN: '' })).toMatchObject({ authToken: undefined });
    // A token starting with a dash needs the = form (parseArgs calls `--auth-token -x` ambiguous).
    expect(parse([...get, '--auth-token=-dash'])).toMatchObject({ authToken: '-dash' });
    expect(() => parse([...get, '--auth-token', '-dash'])).toThrow(UsageError);
    expect(parse(['serve', '--listen', 'h:1'], { FLOTILLA_AUTH_TOKEN: 'from-env' })).toMatchObject({
      authToken: 'from-env',
    });
  });

  test('help', () => {
    for (const argv of [[], ['help'], ['-h'], ['--help'], ['get', '--help'], ['serve', '-h']]) {
      expect(parse(argv), argv.join(' ')).toEqual({ command: 'help' });
    }
    expect(USAGE).toMatch(/^usage:/);
    for (const command of ['serve', 'get', 'put', 'append']) {
      expect(USAGE).toContain(`flotilla-kvsrv ${command}`);
    }
  });

  const USAGE_ERRORS: Array<[string[], RegExp]> = [
    [['nope'], /unknown command "nope"/],
    [['serve'], /serve needs --listen HOST:PORT/],
    [['serve', '--listen', 'h:1', 'extra'], /serve takes no arguments, got extra/],
    [['serve', '--listen'], /--listen/],
    [['serve', '--listen', 'h:1', '--verbose'], /--verbose/],
    [['serve', '--listen', '7000'], /--listen wants HOST:PORT, got "7000"/],
    [['serve', '--listen', ':7000'], /--listen wants HOST:PORT/],
    [['serve', '--listen', 'h:65536'], /--listen wants HOST:PORT/],
    [['serve', '--listen', 'h:-1'], /--listen wants HOST:PORT/],
    [['serve', '--listen', 'h:1.5'], /--listen wants HOST:PORT/],
    [['serve', '--listen', 'h:http'], /--listen wants HOST:PORT/],
    [
      ['serve', '--listen', 'h:1', '--max-value-bytes', '0'],
      /--max-value-bytes wants a positive integer, got "0"/,
    ],
    [['serve', '--listen', 'h:1', '--max-value-bytes', '-5'], /--max-value-bytes/],
    [
      ['serve', '--listen', 'h:1', '--max-value-bytes', '1.5'],
      /--max-value-bytes wants a positive integer/,
    ],
    [
      ['serve', '--listen', 'h:1', '--max-key-bytes', 'ten'],
      /--max-key-bytes wants a positive integer, got "ten"/,
    ],
    [['serve', '--listen', 'h:1', '--max-key-bytes', String(2 ** 53)], /--max-key-bytes/],
    [['get', '--server', 'ws://h:1'], /get needs KEY/],
    [['get', '--server', 'ws://h:1', 'a', 'b'], /get needs KEY/],
    [['put', '--server', 'ws://h:1', 'k'], /put needs KEY VALUE/],
    [['append', '--server', 'ws://h:1', 'k', 'v', 'w'], /append needs KEY VALUE/],
    [['get', 'k'], /get needs --server URL/],
    [['put', 'k', 'v'], /put needs --server URL/],
    [['put', '--server', 'ws://h:1', 'k', '-v'], /-v/],
    [['serve', '--listen', 'h:'], /--listen wants HOST:PORT, got "h:"/],
    [['serve', '--listen', 'h:0x50'], /--listen wants HOST:PORT/],
    [['serve', '--listen', 'h:1e3'], /--listen wants HOST:PORT/],
    [['serve', '--listen', 'h: 80'], /--listen wants HOST:PORT/],
    [['serve', '--listen', 'h:1', '--max-key-bytes', '1e3'], /--max-key-bytes/],
    [['serve', '--listen', 'h:1', '--max-value-bytes', '0x10'], /--max-value-bytes/],
    [['serve', '--listen', 'h:1', '--server', 'ws://h:1'], /serve does not take --server/],
    [['get', '--server', 'ws://h:1', '--listen', 'h:1', 'k'], /get does not take --listen/],
    [
      ['put', '--server', 'ws://h:1', '--max-value-bytes', '5', 'k', 'v'],
      /put does not take --max-value-bytes/,
    ],
  ];

  test.each(USAGE_ERRORS)('%j → UsageError %s', (argv, message) => {
    let caught: unknown;
    try {
      parse(argv);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect(caught).toMatchObject({ code: 'ERR_USAGE' });
    expect((caught as Error).message).toMatch(message);
  });
});

// ---------------------------------------------------------------------------------------------
// The bin, end to end

const TOKEN = 'cli-test-token';

describe('flotilla-kvsrv, end to end', () => {
  test('serve, then put/append/get from separate processes (token by flag)', async () => {
    const { proc, url } = await procs.serve(['--auth-token', TOKEN]);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const cli = (...args: string[]) => procs.run([...args, '--server', url, '--auth-token', TOKEN]);

    expect(await cli('get', 'k')).toMatchObject({ code: 0, stdout: '\n', stderr: '' });
    expect(await cli('put', 'k', 'hello')).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // append prints the value before the append.
    expect(await cli('append', 'k', ', world')).toMatchObject({ code: 0, stdout: 'hello\n' });
    expect(await cli('get', 'k')).toMatchObject({ code: 0, stdout: 'hello, world\n' });
    // Any UTF-8, spaces and an empty value make it through argv and back.
    expect(await cli('put', 'ключ 🔑', 'значение ✓ with  spaces')).toMatchObject({ code: 0 });
    expect((await cli('get', 'ключ 🔑')).stdout).toBe('значение ✓ with  spaces\n');
    expect(await cli('put', 'k', '')).toMatchObject({ code: 0 });
    expect((await cli('append', 'k', 'x')).stdout).toBe('\n');

    // Concurrent appends from separate processes: each applied once.
    const appends = await Promise.all(
      Array.from({ length: 6 }, (_, i) => cli('append', 'many', `<${i}>`)),
    );
    for (const result of appends) expect(result.code).toBe(0);
    const final = (await cli('get', 'many')).stdout.trim();
    expect(final.match(/<\d>/g)?.sort()).toEqual(['<0>', '<1>', '<2>', '<3>', '<4>', '<5>']);
    // Each append saw a prefix of the final value, and they saw six different prefixes.
    const olds = appends.map((result) => result.stdout.replace(/\n$/, ''));
    for (const old of olds) expect(final.startsWith(old)).toBe(true);
    expect(new Set(olds).size).toBe(6);

    const exit = await within(procs.stop(proc, 'SIGTERM'), 5000, 'serve to exit on SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(proc.stderr).toBe('');
  }, 20_000);

  test('the token from FLOTILLA_AUTH_TOKEN, for serve and for the clerk commands', async () => {
    const env = { FLOTILLA_AUTH_TOKEN: TOKEN };
    const { proc, url } = await procs.serve([], { env });
    expect(await procs.run(['put', '--server', url, 'k', 'v'], { env })).toMatchObject({ code: 0 });
    expect(await procs.run(['get', '--server', url, 'k'], { env })).toMatchObject({
      code: 0,
      stdout: 'v\n',
    });
    // The flag wins over the environment.
    const wrongFlag = await procs.run(['get', '--server', url, '--auth-token', 'other', 'k'], {
      env,
    });
    expect(wrongFlag.code).toBe(1);
    const exit = await within(procs.stop(proc, 'SIGINT'), 5000, 'serve to exit on SIGINT');
    expect(exit).toMatchObject({ code: 0, signal: null });
  }, 20_000);

  test('a wrong or missing token: a clear error and exit 1, promptly', async () => {
    const { url } = await procs.serve(['--auth-token', TOKEN]);
    const cases: Array<[string, string[], Record<string, string>]> = [
      ['a wrong token by flag', ['--auth-token', 'not-it'], {}],
      ['a wrong token by env', [], { FLOTILLA_AUTH_TOKEN: 'not-it' }],
      ['no token', [], {}],
    ];
    const results = await Promise.all(
      cases.map(([, flags, env]) =>
        procs.run(['append', '--server', url, ...flags, 'k', 'v'], { env, limitMs: 8000 }),
      ),
    );
    for (const [index, [what]] of cases.entries()) {
      const result = results[index];
      expect(result?.timedOut, what).toBe(false);
      expect(result?.code, what).toBe(1);
      expect(result?.stdout, what).toBe('');
      expect(result?.stderr, what).toMatch(
        /flotilla-kvsrv: AUTH_FAILED: KVServer\.Append: AUTH_FAILED \[ERR_SERVER\]/,
      );
      expect(result?.ms, what).toBeLessThan(5000);
    }
    // Nothing was applied.
    const get = await procs.run(['get', '--server', url, '--auth-token', TOKEN, 'k']);
    expect(get.stdout).toBe('\n');
  }, 20_000);

  test('usage errors exit 2 with the usage text; help exits 0', async () => {
    const cases: string[][] = [
      ['bogus'],
      ['serve'],
      ['serve', '--listen', 'nowhere'],
      ['serve', '--listen', '127.0.0.1:0', '--max-value-bytes', 'lots'],
      ['get', 'k'],
      ['put', '--server', 'ws://127.0.0.1:1', 'k'],
      ['get', '--server', 'ws://127.0.0.1:1', '--what', 'k'],
    ];
    const results = await Promise.all(cases.map((argv) => procs.run(argv)));
    for (const [index, argv] of cases.entries()) {
      const result = results[index];
      expect(result?.code, argv.join(' ')).toBe(2);
      expect(result?.stdout, argv.join(' ')).toBe('');
      expect(result?.stderr, argv.join(' ')).toMatch(/^flotilla-kvsrv: .+\nusage:\n/);
      expect(result?.stderr, argv.join(' ')).toContain(USAGE);
    }
    for (const argv of [[], ['help'], ['--help']]) {
      const help = await procs.run(argv);
      expect(help).toMatchObject({ code: 0, stdout: `${USAGE}\n`, stderr: '' });
      expect(help.stdout.startsWith(FIRST_USAGE_LINE)).toBe(true);
    }
  }, 20_000);

  test('--max-value-bytes and --max-key-bytes are enforced: typed error, code, exit 1', async () => {
    const { url } = await procs.serve([
      '--auth-token',
      TOKEN,
      '--max-value-bytes',
      '10',
      '--max-key-bytes',
      '4',
    ]);
    const cli = (...args: string[]) => procs.run([...args, '--server', url, '--auth-token', TOKEN]);
    expect(await cli('put', 'k', '0123456789')).toMatchObject({ code: 0 });

    const put = await cli('put', 'k', '0123456789a');
    expect(put).toMatchObject({ code: 1, stdout: '' });
    expect(put.stderr).toBe(
      "flotilla-kvsrv: value of 11 bytes exceeds the server's limit of 10 bytes [ERR_VALUE_TOO_LARGE]\n",
    );
    // An Append whose result would be too large is refused too, and changes nothing.
    const append = await cli('append', 'k', 'x');
    expect(append).toMatchObject({ code: 1, stdout: '' });
    expect(append.stderr).toContain('value of 11 bytes exceeds');
    expect(append.stderr).toContain('[ERR_VALUE_TOO_LARGE]');
    // Bytes, not characters: 6 × "é" is 12 bytes.
    expect((await cli('put', 'e', 'éééééé')).stderr).toContain('value of 12 bytes');
    const key = await cli('get', 'k-e-y');
    expect(key.code).toBe(1);
    expect(key.stderr).toBe(
      "flotilla-kvsrv: key of 5 bytes exceeds the server's limit of 4 bytes [ERR_KEY_TOO_LARGE]\n",
    );
    expect(await cli('get', 'k')).toMatchObject({ code: 0, stdout: '0123456789\n' });
  }, 20_000);

  test('serve on a port in use: an error and exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const result = await procs.run(['serve', '--listen', `127.0.0.1:${port}`]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^flotilla-kvsrv: .*EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  }, 20_000);

  test('a clerk command against no server retries until SIGTERM, then exits 1', async () => {
    // A port nothing listens on (bound, read, released).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const proc = procs.start('get', ['get', '--server', `ws://127.0.0.1:${port}`, 'k']);
    // Its first refused connect is logged once it runs (signal handlers installed by then);
    // a fixed sleep was too short on a loaded machine.
    await poll(
      'the clerk to try the server',
      () => (proc.stderr.includes('connection error') ? true : undefined),
      { timeoutMs: 10_000 },
    );
    await sleep(300);
    expect(proc.running).toBe(true);
    const signalled = performance.now();
    const exit = await within(procs.stop(proc, 'SIGTERM'), 5000, 'the command to exit');
    expect(performance.now() - signalled).toBeLessThan(2000);
    expect(exit).toMatchObject({ code: 1, signal: null });
    expect(proc.stdout).toBe('');
    expect(proc.stderr).toContain('flotilla-kvsrv: the clerk is closed [ERR_CLERK_CLOSED]');
  }, 20_000);
});
