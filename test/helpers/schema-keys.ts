// Every key a strict zod schema accepts, as documented paths: `listen.data`, `tools.<name>.upstream`,
// `agents.<id>.credentials[].issuer`, `rules[].mcp_tools`. Walks zod 4's definitions, so a key added to a
// schema shows up here without anyone remembering to list it.
import type { z } from 'zod';

interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly left?: z.ZodType;
  readonly right?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** `placeholder` names the key of a record at a path (`tools` → `<name>`); default `<key>`. */
export function schemaKeys(schema: z.ZodType, placeholders: Readonly<Record<string, string>> = {}, prefix = ''): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape ?? {}).flatMap(([key, value]) => {
        const path = prefix === '' ? key : `${prefix}.${key}`;
        return [path, ...schemaKeys(value, placeholders, path)];
      });
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return schemaKeys(def.innerType!, placeholders, prefix);
    case 'pipe':
      return [...schemaKeys(def.in!, placeholders, prefix), ...schemaKeys(def.out!, placeholders, prefix)];
    case 'record':
      return schemaKeys(def.valueType!, placeholders, `${prefix}.${placeholders[prefix] ?? '<key>'}`);
    case 'array':
      return schemaKeys(def.element!, placeholders, `${prefix}[]`);
    case 'union':
      return [...new Set((def.options ?? []).flatMap((option) => schemaKeys(option, placeholders, prefix)))];
    case 'intersection':
      return [...schemaKeys(def.left!, placeholders, prefix), ...schemaKeys(def.right!, placeholders, prefix)];
    default:
      return [];
  }
}
