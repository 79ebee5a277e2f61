/**
 * The process-wide pino logger. Logs go to stderr, never stdout (stdout carries data). Human-readable
 * when stderr is a terminal, one JSON object per line when --log-format json is asked or stderr is not a TTY
 * and RARE_MINE_LOG_FORMAT=json. Level from --log-level / RARE_MINE_LOG_LEVEL (default info).
 */
import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

/** `--log-format` choices. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/** `--log-level` choices (pino's levels). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

let current: Logger | undefined;

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
}

/** Build (or rebuild) the logger. Called once by the CLI after flags are parsed. */
export function configureLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.RARE_MINE_LOG_LEVEL ?? 'info';
  const format = options.format ?? (process.env.RARE_MINE_LOG_FORMAT as LogFormat | undefined) ?? 'pretty';
  if (format === 'json') {
    current = pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
  } else {
    const stream = pinoPretty({
      destination: 2,
      sync: true,
      colorize: process.stderr.isTTY === true,
      ignore: 'pid,hostname',
      translateTime: 'HH:MM:ss',
    });
    current = pino({ level, base: undefined }, stream);
  }
  return current;
}

/** The logger; configured with defaults on first use. */
export function log(): Logger {
  return current ?? configureLogger();
}
