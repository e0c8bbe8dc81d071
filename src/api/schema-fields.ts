// Lists every field the schemas accept, by walking the same checks that
// validate documents (see Shape in validate.ts). The field-support table is
// checked against this list, so a field cannot be added to a schema without
// saying what the project does with it.
import { shapeOf, type Check } from './validate.js';

export interface SchemaField {
  /** `spec.ingress[].source.nets`: `[]` is "each list item", `{}` "each map value". */
  path: string;
  /** The shared type this field holds (listed once, in its own section), if any. */
  type?: string;
}

export interface SchemaSections {
  /** Section name (a kind, or a shared type such as Rule) -> its fields in schema order. */
  sections: Map<string, SchemaField[]>;
}

/**
 * Walks `root` (a kind's spec check, reached at `prefix`) into `out`. Shared
 * named types are walked once into their own section and referenced by name.
 */
export function collectFields(section: string, root: Check, prefix: string, out: SchemaSections): void {
  const fields: SchemaField[] = [];
  out.sections.set(section, fields);
  walk(root, prefix, fields, out, true);
}

function walk(check: Check, path: string, fields: SchemaField[], out: SchemaSections, isRoot: boolean): void {
  const shape = shapeOf(check);
  if (!shape) {
    fields.push({ path });
    return;
  }
  switch (shape.kind) {
    case 'named':
      if (!isRoot) {
        fields.push({ path, type: shape.name });
        if (!out.sections.has(shape.name)) collectFields(shape.name, shape.inner, '', out);
        return;
      }
      walk(shape.inner, path, fields, out, true);
      return;
    case 'object': {
      const keys = Object.keys(shape.fields);
      if (keys.length === 0) {
        fields.push({ path });
        return;
      }
      for (const key of keys) walk(shape.fields[key]!, path ? `${path}.${key}` : key, fields, out, false);
      return;
    }
    case 'list':
      walkItem(shape.item, `${path}[]`, path, fields, out);
      return;
    case 'map':
      walkItem(shape.value, `${path}{}`, path, fields, out);
      return;
  }
}

/** A list or map of plain values is one field; of objects or named types, its item's fields. */
function walkItem(item: Check, itemPath: string, path: string, fields: SchemaField[], out: SchemaSections): void {
  const shape = shapeOf(item);
  if (!shape || shape.kind === 'list' || shape.kind === 'map') {
    fields.push({ path });
    return;
  }
  walk(item, itemPath, fields, out, false);
}
