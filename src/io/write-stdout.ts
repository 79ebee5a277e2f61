/**
 * Writing a whole text to stdout (the `stats` table, the `report` HTML). What must hold: a reader that went away
 * (`| head`) is not an error; any other write error is.
 */

/** Write to stdout; a reader that went away (`rare-mine stats out.jsonl | head -3`) is not an error. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const closedPipe = (error: NodeJS.ErrnoException | null | undefined) => !error || error.code === 'EPIPE';
    // Stays attached: with a large text the socket reports the closed pipe again after the write's callback.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => (closedPipe(error) ? resolve() : reject(error)));
    process.stdout.write(text, (error) => {
      if (closedPipe(error)) resolve();
      else reject(error);
    });
  });
}
