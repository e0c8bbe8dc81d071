// Renders the field-support table as the Markdown page docs/fields.md.
import type { SchemaSections } from '../schema-fields.js';
import type { FieldSupport, FieldTable } from './model.js';

const escape = (s: string): string => s.replace(/\|/g, '\\|');

function cell(s: FieldSupport): [string, string] {
  switch (s.status) {
    case 'honoured':
      return ['honoured', `${escape(s.test.replace(' :: ', ' — "'))}"${s.note ? ` (${escape(s.note)})` : ''}`];
    case 'refused':
      return [`refused${s.allowed.length ? ` unless ${s.allowed.map((a) => `\`${JSON.stringify(a)}\``).join(' / ')}` : ''}`, escape(s.message)];
    case 'warned':
      return ['warned', escape(s.reason)];
  }
}

const INTRO = `# Field support: what calico-ts does with every field

Generated from \`src/api/field-support/\` by its test (\`UPDATE_GOLDEN=1 node scripts/run-tests.mjs unit --only field-support\`
rewrites this page); do not edit by hand. Every field of every kind the API accepts is listed, in one of three states:

- **honoured**: the field takes effect. The test named beside it shows it.
- **refused**: validation rejects the field (or the values named) with the message shown, and nothing is written:
  the feature is not implemented and ignoring it could open traffic or drop a protection the user asked for.
- **warned**: accepted so that configurations exported from Calico apply unchanged, but not acted on.
  \`calicoctl create/apply/replace/validate\` and calico-node print a warning naming the field when it is set
  (quiet when set to the value that describes what calico-ts does anyway). Only fields with no security meaning are here.

A test checks that this table and the schemas list the same fields, that every named test exists, and that every
refused value is refused by validation. Shared types (Rule, EntityRule) are listed once.
`;

export function renderFieldTable(sections: SchemaSections, table: Readonly<Record<string, FieldTable>>): string {
  const lines = [INTRO, '## Summary', '', '| section | fields | honoured | refused | warned |', '| --- | ---: | ---: | ---: | ---: |'];
  const body: string[] = [];
  for (const [section, fields] of sections.sections) {
    const counts = { honoured: 0, refused: 0, warned: 0 };
    body.push('', `## ${section}`, '', '| field | status | shown by / why |', '| --- | --- | --- |');
    for (const f of fields) {
      const s = table[section]?.[f.path];
      if (!s) {
        body.push(`| \`${f.path}\` | **missing** | |`);
        continue;
      }
      counts[s.status]++;
      const [status, why] = cell(s);
      body.push(`| \`${f.path}\`${f.type ? ` (${f.type})` : ''} | ${status} | ${why} |`);
    }
    lines.push(`| [${section}](#${section.toLowerCase()}) | ${fields.length} | ${counts.honoured} | ${counts.refused} | ${counts.warned} |`);
  }
  return [...lines, ...body, ''].join('\n');
}
