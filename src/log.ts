/**
 * The process-wide pino logger. Logs go to stderr, never stdout (stdout carries data). `--log-format pretty`
 * (default; or RARE_MINE_LOG_FORMAT) writes ONE line per entry: the rendering a module registered for that message
 * (prettyAs) alone, or else the message and its scalar fields as key=value; at debug level nested objects are shown
 * too and a rendered message keeps its fields. `--log-format json` writes the whole object, one per line, whatever
 * the level. Level from --log-level / RARE_MINE_LOG_LEVEL (default info).
 * What must hold: in json mode every line rare-mine itself writes on stderr is one JSON object — a block of text
 * for people (the statistics table) is an event with its data as fields (`infoBlock`), an error at exit is an
 * event too (`errorEvent`), and no progress line is drawn (src/terminal/progress.ts asks `logFormat()`).
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

/** pino-pretty (29 modules) is loaded when the pretty format is chosen, not by every json-logging process or thread. */
function loadPinoPretty(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}

/** `--log-format` choices. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/** `--log-level` choices (pino's levels). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

let current: Logger | undefined;
let currentFormat: LogFormat | undefined;

/** The format logs are written in: the configured one, else $RARE_MINE_LOG_FORMAT's (json or pretty). */
export function logFormat(): LogFormat {
  return currentFormat ?? (process.env.RARE_MINE_LOG_FORMAT === 'json' ? 'json' : 'pretty');
}

/** Whether configureLogger ran (an error before the command's options were read finds it unconfigured). */
export function loggerConfigured(): boolean {
  return current !== undefined;
}

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
}

type Fields = Record<string, unknown>;

/** Human renderings of particular messages in pretty mode, by message (the JSON object is the same either way). */
const PRETTY_RENDERERS = new Map<string, (fields: Fields) => string>();

/** Render log entries with message `msg` as `render(fields)` in pretty mode (e.g. the end-of-run summary in words). */
export function prettyAs(msg: string, render: (fields: Fields) => string): void {
  PRETTY_RENDERERS.set(msg, render);
}

const PINO_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** One line: the message, then its scalar fields; nested objects only when `nested` (debug). */
export function prettyMessage(fields: Fields, nested: boolean): string {
  const msg = String(fields.msg ?? '');
  const render = PRETTY_RENDERERS.get(msg);
  if (render && !nested) return render(fields);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (PINO_KEYS.has(key) || value === undefined) continue;
    if (value !== null && typeof value === 'object') {
      if (nested) parts.push(`${key}=${JSON.stringify(value)}`);
      continue;
    }
    parts.push(`${key}=${typeof value === 'string' && /[\s"]/.test(value) ? JSON.stringify(value) : String(value)}`);
  }
  const head = render ? render(fields) : msg;
  return parts.length === 0 ? head : `${head} (${parts.join(', ')})`;
}

/** Build (or rebuild) the logger. Called once by the CLI after flags are parsed. */
export function configureLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.RARE_MINE_LOG_LEVEL ?? 'info';
  const format = options.format ?? (process.env.RARE_MINE_LOG_FORMAT as LogFormat | undefined) ?? 'pretty';
  currentFormat = format === 'json' ? 'json' : 'pretty';
  if (format === 'json') {
    current = pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
  } else {
    const nested = level === 'debug' || level === 'trace';
    const stream = loadPinoPretty()({
      destination: 2,
      sync: true,
      colorize: process.stderr.isTTY === true,
      ignore: 'pid,hostname',
      translateTime: 'HH:MM:ss',
      hideObject: true,
      messageFormat: (entry) => prettyMessage(entry as Fields, nested),
    });
    current = pino({ level, base: undefined }, stream);
  }
  return current;
}

/** The logger; configured with defaults on first use. */
export function log(): Logger {
  return current ?? configureLogger();
}

/**
 * Something written for people as a block (an aligned table): pretty mode writes `text` as it is, json mode logs
 * one info event `msg` with `fields` (the same data, for machines). Nothing below the info level.
 */
export function infoBlock(fields: Fields, msg: string, text: string): void {
  if (!log().isLevelEnabled('info')) return;
  if (logFormat() === 'json') log().info(fields, msg);
  else process.stderr.write(text);
}

/** pino's number for the error level, as its JSON lines carry it. */
const ERROR_LEVEL = 50;

/**
 * One JSON line in the shape of pino's (level, time, fields, msg) for an error at exit: written whatever
 * --log-level says (an error that ends the run is never silenced) and before or without a configured logger.
 */
export function errorEvent(fields: Fields, msg: string): void {
  const line = JSON.stringify({ level: ERROR_LEVEL, time: Date.now(), ...fields, msg });
  process.stderr.write(line + '\n');
}
