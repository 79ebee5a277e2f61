/**
 * Bounded reads of model files (ONNX graphs, tokenizer and config JSON), for local model directories and hub
 * downloads alike. What must hold: a model file is read, hashed or handed to onnxruntime only when it resolves
 * to a regular file no larger than its kind's bound; a link to /dev/zero, a FIFO, a socket or a huge file is
 * a ModelError naming the file and the bound, before a single byte is read (so nothing can hang on it).
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { ModelError } from '../errors.js';

/**
 * The largest file of each kind rare-mine reads or downloads: JSON files are small; one ONNX file cannot pass
 * protobuf's 2 GiB; external weights (`*.onnx_data`) are as large as the model.
 */
export const MODEL_FILE_BOUNDS: ReadonlyArray<{ suffix: string; bytes: number }> = [
  { suffix: '.json', bytes: 256 * 2 ** 20 },
  { suffix: '.onnx', bytes: 2 * 2 ** 30 },
  { suffix: '.onnx_data', bytes: 64 * 2 ** 30 },
];

/**
 * The bound of a model file by its name (MODEL_FILE_BOUNDS).
 * @throws ModelError for a name of no bounded kind
 */
export function modelFileBound(file: string): number {
  const row = MODEL_FILE_BOUNDS.find((candidate) => file.endsWith(candidate.suffix));
  if (!row) throw new ModelError(`${file}: not a model file rare-mine reads (only ${MODEL_FILE_BOUNDS.map((r) => `*${r.suffix}`).join(', ')})`);
  return row.bytes;
}

/** "a character device", "a FIFO", ... for messages. */
function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 0)} MiB`;
}

function checkStat(path: string, realPath: string, stat: Stats, bound: number): void {
  const via = realPath === path ? '' : ` (it resolves to ${realPath})`;
  if (!stat.isFile()) throw new ModelError(`model file ${path}${via} is ${kindOf(stat)}; model files must be regular files`);
  if (stat.size > bound) {
    throw new ModelError(`model file ${path}${via} is ${stat.size} bytes (${mib(stat.size)}), more than the ${mib(bound)} bound for a *${path.slice(path.lastIndexOf('.'))} file`);
  }
}

/**
 * Check a model file before anything reads it: it must resolve (links followed) to a regular file within the
 * bound of its kind. Never opens the file, so a FIFO cannot block.
 * @returns the real path and size
 * @throws ModelError naming the file, what it is and the bound
 */
export function checkModelFile(path: string, bound = modelFileBound(path)): { realPath: string; size: number } {
  let realPath: string;
  let stat: Stats;
  try {
    realPath = realpathSync(path);
    stat = statSync(realPath);
  } catch (cause) {
    throw new ModelError(`model file ${path} cannot be read: ${(cause as Error).message}`, { cause });
  }
  checkStat(path, realPath, stat, bound);
  return { realPath, size: stat.size };
}

/**
 * Read a model file whole, within its bound (checked before opening, and again on the open descriptor; at most
 * the bound is read even if the file grows meanwhile).
 * @throws ModelError as checkModelFile
 */
export function readModelFile(path: string, bound = modelFileBound(path)): Buffer {
  const { realPath } = checkModelFile(path, bound);
  const fd = openSync(realPath, 'r');
  try {
    const stat = fstatSync(fd);
    checkStat(path, realPath, stat, bound);
    const out = Buffer.alloc(stat.size);
    let done = 0;
    while (done < out.length) {
      const n = readSync(fd, out, done, out.length - done, done);
      if (n <= 0) break;
      done += n;
    }
    return out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
