// A small JSON Schema (draft 2020-12) validator for exactly the keywords src/audit/audit-record.schema.json
// uses. Why not ajv: package.json is frozen (no new dependency), and this subset is small enough to get
// right. Any keyword it does not know makes it throw, so the schema cannot silently grow a keyword that
// nothing checks (a test that cannot fail is a defect).

export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

export interface SchemaError {
  /** JSON Pointer of the offending value, e.g. "/metadata/sequence". */
  readonly at: string;
  readonly message: string;
}

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$comment']);
const KNOWN = new Set([
  ...ANNOTATIONS,
  'type', 'required', 'properties', 'additionalProperties', 'enum', 'const', 'pattern', 'minimum', 'maximum',
  'minLength', 'minItems', 'items', '$ref', '$defs', 'allOf', 'if', 'then', 'not',
]);

export function validateJson(schema: JsonSchema, value: unknown): SchemaError[] {
  const errors: SchemaError[] = [];
  check(schema, value, '', schema, errors);
  return errors;
}

function check(schema: JsonSchema, value: unknown, at: string, root: JsonSchema, errors: SchemaError[]): void {
  if (schema === true) return;
  if (schema === false) {
    errors.push({ at, message: 'no value is allowed here' });
    return;
  }
  for (const keyword of Object.keys(schema)) {
    if (!KNOWN.has(keyword)) throw new Error(`json-schema helper: unsupported keyword ${keyword} at ${at || '/'}`);
  }
  const s = schema as Record<string, any>;
  const fail = (message: string) => errors.push({ at: at || '/', message });
  if (s.$ref !== undefined) check(resolveRef(root, s.$ref as string), value, at, root, errors);
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((type) => hasType(value, type))) fail(`must be ${types.join(' or ')}, got ${typeName(value)}`);
  }
  if (s.const !== undefined && !deepEqual(value, s.const)) fail(`must be ${JSON.stringify(s.const)}`);
  if (s.enum !== undefined && !(s.enum as unknown[]).some((option) => deepEqual(value, option))) {
    fail(`must be one of ${JSON.stringify(s.enum)}, got ${JSON.stringify(value)}`);
  }
  if (typeof value === 'string') {
    if (s.pattern !== undefined && !new RegExp(s.pattern as string, 'u').test(value)) fail(`must match ${s.pattern}`);
    if (s.minLength !== undefined && [...value].length < (s.minLength as number)) fail(`must have at least ${s.minLength} characters`);
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < (s.minimum as number)) fail(`must be >= ${s.minimum}`);
    if (s.maximum !== undefined && value > (s.maximum as number)) fail(`must be <= ${s.maximum}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < (s.minItems as number)) fail(`must have at least ${s.minItems} items`);
    if (s.items !== undefined) value.forEach((item, i) => check(s.items as JsonSchema, item, `${at}/${i}`, root, errors));
  }
  if (isObject(value)) {
    for (const key of (s.required as string[] | undefined) ?? []) if (!Object.hasOwn(value, key)) fail(`missing required member "${key}"`);
    const properties = (s.properties as Record<string, JsonSchema> | undefined) ?? {};
    for (const [key, member] of Object.entries(value)) {
      const path = `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (Object.hasOwn(properties, key)) check(properties[key] as JsonSchema, member, path, root, errors);
      else if (s.additionalProperties !== undefined) {
        if (s.additionalProperties === false) errors.push({ at: path, message: 'unknown member' });
        else check(s.additionalProperties as JsonSchema, member, path, root, errors);
      }
    }
  }
  for (const sub of (s.allOf as JsonSchema[] | undefined) ?? []) check(sub, value, at, root, errors);
  if (s.if !== undefined && s.then !== undefined && validateSub(s.if as JsonSchema, value, at, root)) check(s.then as JsonSchema, value, at, root, errors);
  if (s.not !== undefined && validateSub(s.not as JsonSchema, value, at, root)) fail('must not match the "not" schema');
}

function validateSub(schema: JsonSchema, value: unknown, at: string, root: JsonSchema): boolean {
  const errors: SchemaError[] = [];
  check(schema, value, at, root, errors);
  return errors.length === 0;
}

/** Local references only ("#/$defs/name"): the schema is self-contained. */
function resolveRef(root: JsonSchema, ref: string): JsonSchema {
  if (!ref.startsWith('#/')) throw new Error(`json-schema helper: only local $ref is supported, got ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    node = isObject(node) ? node[part.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined;
  }
  if (node === undefined) throw new Error(`json-schema helper: unresolved $ref ${ref}`);
  return node as JsonSchema;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      throw new Error(`json-schema helper: unknown type ${type}`);
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
