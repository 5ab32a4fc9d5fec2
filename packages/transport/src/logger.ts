/**
 * The logging surface the transport needs. Its shape matches pino's (`logger.warn(obj, msg)`),
 * so a pino logger can be passed as is; the default writes one line to stderr.
 */
export interface Logger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

export const stderrLogger: Logger = {
  warn: (fields, message) => writeLine('warn', fields, message),
  info: (fields, message) => writeLine('info', fields, message),
};

export const silentLogger: Logger = {
  warn: () => {},
  info: () => {},
};

function writeLine(level: string, fields: Record<string, unknown>, message: string): void {
  let line: string;
  try {
    line = JSON.stringify({ level, msg: message, ...fields }, (_key, value) =>
      typeof value === 'bigint' ? `${value}` : value,
    );
  } catch {
    line = JSON.stringify({ level, msg: message, fields: 'unprintable' });
  }
  process.stderr.write(`${line}\n`);
}

/**
 * Wraps a logger so that peers cannot flood it: at most `perSecond` lines a second pass, and
 * the first line after a window that dropped some says how many were dropped.
 */
export function rateLimitedLogger(
  logger: Logger,
  clock: { now(): number },
  perSecond = 20,
): Logger {
  let windowStart = Number.NEGATIVE_INFINITY;
  let count = 0;
  let dropped = 0;
  const pass = (): boolean => {
    const now = clock.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      count = 0;
    }
    if (count >= perSecond) {
      dropped++;
      return false;
    }
    count++;
    return true;
  };
  const wrap =
    (level: 'warn' | 'info') =>
    (fields: Record<string, unknown>, message: string): void => {
      if (!pass()) return;
      if (dropped > 0) {
        logger[level]({ ...fields, droppedLines: dropped }, message);
        dropped = 0;
      } else {
        logger[level](fields, message);
      }
    };
  return { warn: wrap('warn'), info: wrap('info') };
}
