/**
 * Preloaded with `node --import` (test/slow/native-modules.test.ts): reports every native addon the process loads
 * (`process.dlopen`, which every `.node` module goes through) as one stderr line "native-addon: PATH".
 */
const original = process.dlopen.bind(process);
process.dlopen = ((module: { exports: unknown }, filename: string, ...rest: unknown[]) => {
  process.stderr.write(`native-addon: ${filename}\n`);
  return (original as (...args: unknown[]) => void)(module, filename, ...rest);
}) as typeof process.dlopen;
