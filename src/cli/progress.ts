/**
 * The one progress bar: on stderr, only when stderr is a terminal (never in pipes, CI or log files), redrawn at
 * most 10 times a second. Without a total it shows a count and a rate.
 */
export class Progress {
  private count = 0;
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly enabled = process.stderr.isTTY === true && process.env.RARE_MINE_NO_PROGRESS === undefined;

  constructor(readonly label: string, readonly total?: number) {}

  tick(amount = 1): void {
    this.count += amount;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.draw(now);
  }

  private draw(now: number): void {
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(this.count / seconds) : 0;
    let line = `${this.label}: ${this.count.toLocaleString('en-US')}`;
    if (this.total && this.total > 0) {
      const fraction = Math.min(1, this.count / this.total);
      const width = 24;
      const filled = Math.round(fraction * width);
      line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0)}% ${this.count.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')}`;
    }
    process.stderr.write(`\r${line} (${rate.toLocaleString('en-US')}/s)\x1b[K`);
  }

  done(): void {
    if (this.enabled && this.lastDraw > 0) process.stderr.write('\r\x1b[K');
  }
}
