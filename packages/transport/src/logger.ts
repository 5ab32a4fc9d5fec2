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
  process.stderr.write(`${JSON.stringify({ level, msg: message, ...fields })}\n`);
}
