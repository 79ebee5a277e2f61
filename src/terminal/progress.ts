/**
 * The one progress line of every long phase (reading a corpus, indexing, embedding, mining, downloading): a
 * percentage, a bar and an ETA when the total is known (documents of a corpus, bytes of an input file or a
 * download), a count and a rate otherwise. What must hold: it is drawn on stderr only when stderr is a terminal,
 * RARE_MINE_NO_PROGRESS is unset and logs are not JSON (never in pipes, CI, log files or --log-format json), at most ten times a second, and the
 * line is erased when the phase ends, so logs and the statistics table are never interleaved with it.
 */
import { logFormat, type LogFormat } from '../log.js';

/** How the progressed quantity is shown: a count of things, or bytes (shown in MB). */
export type ProgressUnit = 'items' | 'bytes';

/** A snapshot of a phase, enough to draw its line. */
export interface ProgressState {
  /** Units done so far (items, or bytes). */
  done: number;
  /** Units in all, when known. */
  total?: number;
  unit: ProgressUnit;
  /** What an item is called ("records", "documents"); the count shown next to the bytes when the unit is bytes. */
  itemLabel: string;
  /** Items done, when the unit is bytes and items are counted too (records of an input file). */
  items?: number;
  elapsedSeconds: number;
}

/**
 * Whether progress is drawn for `stream` under `env`: a terminal, RARE_MINE_NO_PROGRESS not set, and logs not JSON
 * (a progress line is not a JSON object: under --log-format json every stderr line must be one).
 */
export function progressWanted(stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env, format: LogFormat = logFormat()): boolean {
  return stream.isTTY === true && format !== 'json' && (env.RARE_MINE_NO_PROGRESS === undefined || env.RARE_MINE_NO_PROGRESS === '' || env.RARE_MINE_NO_PROGRESS === '0');
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** Bytes in the unit that suits `scale` (the total, or the amount when there is none): kB, MB or GB. */
function byteUnit(scale: number): { name: string; size: number } {
  return scale >= 1e9 ? { name: 'GB', size: 1e9 } : scale >= 1e6 ? { name: 'MB', size: 1e6 } : { name: 'kB', size: 1e3 };
}

/** 75 → "1:15", 3725 → "1:02:05". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The text of a progress line (without the carriage return), a pure function of the state. */
export function formatProgress(label: string, state: ProgressState): string {
  const { done, total, unit, itemLabel, elapsedSeconds } = state;
  const perSecond = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  const items = unit === 'bytes' ? state.items : done;
  const itemRate = items !== undefined && elapsedSeconds > 0 ? items / elapsedSeconds : undefined;
  const bytes = byteUnit(total !== undefined && total > 0 ? total : done);
  const inUnit = (n: number) => (n / bytes.size).toFixed(1);
  const rate = unit === 'bytes' ? `${inUnit(perSecond)} ${bytes.name}/s` : `${count(perSecond)} ${itemLabel}/s`;
  const itemsText = items === undefined ? '' : `${count(items)} ${itemLabel}`;
  if (total === undefined || total <= 0) {
    const amount = unit === 'bytes' ? `${inUnit(done)} ${bytes.name}${itemsText ? ` · ${itemsText}` : ''}` : itemsText;
    const itemsRate = unit === 'bytes' && itemRate !== undefined ? ` · ${count(itemRate)} ${itemLabel}/s` : '';
    return `${label} ${amount} · ${rate}${itemsRate} · ${formatDuration(elapsedSeconds)}`;
  }
  const fraction = Math.min(1, Math.max(0, done / total));
  const width = 20;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const amount = unit === 'bytes' ? `${inUnit(done)}/${inUnit(total)} ${bytes.name}${itemsText ? ` · ${itemsText}` : ''}` : `${count(done)}/${count(total)} ${itemLabel}`;
  const eta = done > 0 && elapsedSeconds > 0 ? `ETA ${formatDuration(((total - done) * elapsedSeconds) / done)}` : 'ETA –';
  const itemsRate = unit === 'bytes' && itemRate !== undefined ? ` · ${count(itemRate)} ${itemLabel}/s` : '';
  return `${label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${amount} · ${rate}${itemsRate} · ${eta}`;
}

/** Where a Progress draws; process.stderr unless a test gives its own. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Units in all, when known. */
  total?: number;
  /** Default items. */
  unit?: ProgressUnit;
  /** What an item is called. Default "items". */
  itemLabel?: string;
  stream?: ProgressStream;
  env?: NodeJS.ProcessEnv;
  /** Draw or not, overriding progressWanted (a caller that was told explicitly). */
  enabled?: boolean;
  /** Milliseconds clock; default performance.now. */
  now?: () => number;
}

/** A phase's progress line; `tick` (items) or `update` (absolute units, e.g. bytes read) as the work goes. */
export class Progress {
  private doneUnits = 0;
  private items: number | undefined;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly started: number;
  private readonly enabled: boolean;
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly unit: ProgressUnit;
  private readonly itemLabel: string;
  private total?: number;

  constructor(readonly label: string, options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? (() => performance.now());
    this.enabled = options.enabled ?? progressWanted(this.stream, options.env);
    this.started = this.now();
    this.unit = options.unit ?? 'items';
    this.itemLabel = options.itemLabel ?? 'items';
    this.total = options.total;
  }

  /** `amount` more items done (for a bytes phase: items counted beside the bytes, and `bytesDone` when known). */
  tick(amount = 1, bytesDone?: number): void {
    if (this.unit === 'items') this.doneUnits += amount;
    else this.items = (this.items ?? 0) + amount;
    if (bytesDone !== undefined) this.doneUnits = bytesDone;
    this.maybeDraw();
  }

  /** Set the units done so far (bytes read, bytes downloaded). */
  update(done: number): void {
    this.doneUnits = done;
    this.maybeDraw();
  }

  /** Learn the total once it is known (e.g. after a download's first response). */
  setTotal(total: number | undefined): void {
    this.total = total;
  }

  private maybeDraw(): void {
    if (!this.enabled) return;
    const now = this.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.drawn = true;
    this.stream.write(`\r${formatProgress(this.label, this.state(now))}\x1b[K`);
  }

  private state(now: number): ProgressState {
    return { done: this.doneUnits, total: this.total, unit: this.unit, itemLabel: this.itemLabel, items: this.items, elapsedSeconds: (now - this.started) / 1000 };
  }

  /** End the phase: erase the line (the phase's log line says how it went). */
  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** The progress line of an index build phase (the ProgressReporter src/index/ reports through). */
export function phaseProgress(label: string, total: number | undefined, itemLabel: string, unit: ProgressUnit = 'items'): Progress {
  return new Progress(label, { total, itemLabel, unit });
}
