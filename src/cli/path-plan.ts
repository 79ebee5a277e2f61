/**
 * The write gate's plan of a command, derived from the option table: every option and argument declared with a
 * path role (src/cli/option-spec.ts `PathDecl`) becomes a path read or written, so that no command lists its paths by
 * hand and a new path option is checked the day it is declared. A command adds only what no option names: the files
 * it derives from them (`OUT.partial`, a journal, a shard sidecar, an index dir's parts, colbert's side files).
 * What must hold: every command calls checkPaths (src/io/path-safety.ts) with `commandPathPlan(...)` before it
 * opens anything for writing; test/slow/write-gate.test.ts walks every command and every path option.
 */
import type { Argument, Command, Option } from 'commander';
import type { PathPlan, PathUse } from '../io/path-safety.js';
import { pathDeclOf, type PathDecl } from './option-spec.js';

/** What a command adds to the plan its options declare. */
export interface PathPlanExtras {
  /** Files derived from a declared path, by its label ("-o": its partial, journal, sidecar, lock). */
  siblings?: Readonly<Record<string, readonly string[]>>;
  /** Paths read that no option names (a shard's sidecar). */
  reads?: readonly PathUse[];
  /** Paths written that no option names (an index dir's parts, side files); a use with the same label and path replaces the declared one. */
  writes?: readonly PathUse[];
}

/** One declared path option or argument of a command, as the gate names it. */
export interface DeclaredPath {
  /** How messages name it: "-o", "--rejects", "input". */
  label: string;
  /** Where its value is in the command's options; undefined for an argument. */
  attribute?: string;
  /** The index of an argument in the command's arguments. */
  argument?: number;
  decl: PathDecl;
}

function optionLabel(option: Option, decl: PathDecl): string {
  return decl.label ?? option.short ?? option.long ?? option.flags;
}

/** Every declared path option and argument of `command` (not of its subcommands), in declaration order. */
export function declaredPaths(command: Command): DeclaredPath[] {
  const paths: DeclaredPath[] = [];
  command.registeredArguments.forEach((argument: Argument, index) => {
    const decl = pathDeclOf(argument);
    if (decl) paths.push({ label: decl.label ?? argument.name(), argument: index, decl });
  });
  for (const option of command.options) {
    const decl = pathDeclOf(option);
    if (decl) paths.push({ label: optionLabel(option, decl), attribute: option.attributeName(), decl });
  }
  return paths;
}

function usesOf(path: DeclaredPath, value: unknown, siblings: readonly string[] | undefined): PathUse[] {
  const values = Array.isArray(value) ? value : [value];
  return values
    .filter((one): one is string => typeof one === 'string' && !(path.decl.names ?? []).includes(one))
    .map((one) => ({ option: path.label, path: one, kind: path.decl.kind, siblings: siblings === undefined ? undefined : [...siblings] }));
}

/**
 * The paths `command` reads and writes with these option values (`values`: its parsed options, by attribute name)
 * and arguments (`args`, in order), plus what the command derives from them.
 */
export function commandPathPlan(command: Command, values: object, args: readonly unknown[] = [], extras: PathPlanExtras = {}): PathPlan {
  const reads: PathUse[] = [];
  const writes: PathUse[] = [];
  const given = values as Record<string, unknown>;
  for (const path of declaredPaths(command)) {
    const value = path.argument === undefined ? given[path.attribute!] : args[path.argument];
    (path.decl.role === 'read' ? reads : writes).push(...usesOf(path, value, extras.siblings?.[path.label]));
  }
  const extraWrites = extras.writes ?? [];
  const replaced = (use: PathUse) => extraWrites.some((extra) => extra.option === use.option && extra.path === use.path);
  return { reads: [...reads, ...(extras.reads ?? [])], writes: [...writes.filter((use) => !replaced(use)), ...extraWrites] };
}
