/**
 * The docs are written by hand; these tests keep them from drifting from the code: the
 * request table of docs/protocol.md against the schema, and every `NAME (number)` status
 * the docs cite against the status table.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { Win32 } from '../../src/errors.ts';
import { FrameKind, MAX_FRAME, requests } from '../../src/protocol/schema.ts';
import { MAX_LIST } from '../../src/protocol/fields.ts';

const docsDir = new URL('../../docs/', import.meta.url);
const read = (file: string): string => fs.readFileSync(new URL(file, docsDir), 'utf8');

interface Row {
  id: number;
  name: string;
  request: string[];
  reply: string[];
}

/** `\`handle\` u32, \`count\` i32` → ['handle:u32', 'count:i32']; '—' → []. */
function fieldsCell(cell: string, where: string): string[] {
  if (cell === '—') return [];
  return cell.split(', ').map((part) => {
    const m = /^`(\w+)` (\w+)$/.exec(part);
    assert.ok(m, `${where}: cannot read field "${part}"`);
    return `${m[1]}:${m[2]}`;
  });
}

/** The rows of the table under "## Requests". */
function requestTable(markdown: string): Row[] {
  const section = markdown.split(/^## Requests$/m)[1];
  assert.ok(section !== undefined, 'docs/protocol.md has a "## Requests" section');
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const m = /^\| (\d+) \| `(\w+)` \| ([^|]+?) \| ([^|]+?) \|/.exec(line);
    if (m === null) continue;
    const where = `row ${m[1]} ${m[2]}`;
    rows.push({ id: Number(m[1]), name: m[2]!, request: fieldsCell(m[3]!, where), reply: fieldsCell(m[4]!, where) });
  }
  return rows;
}

const schemaRows: Row[] = Object.entries(requests).map(([name, spec]) => ({
  id: spec.id,
  name,
  request: Object.entries(spec.request).map(([k, v]) => `${k}:${v.kind}`),
  reply: Object.entries(spec.reply).map(([k, v]) => `${k}:${v.kind}`),
}));

test('the request table of docs/protocol.md lists exactly the requests and numbers of the schema', () => {
  const doc = requestTable(read('protocol.md'));
  assert.deepEqual(
    doc.map((r) => `${r.id} ${r.name}`).sort(),
    schemaRows.map((r) => `${r.id} ${r.name}`).sort(),
  );
});

test('the request table gives each request its fields and reply fields in schema order', () => {
  const doc = new Map(requestTable(read('protocol.md')).map((r) => [r.name, r]));
  for (const row of schemaRows) {
    assert.deepEqual(doc.get(row.name), row, `${row.name} in docs/protocol.md`);
  }
});

test('the frame constants docs/protocol.md states are the codec\'s', () => {
  const doc = read('protocol.md');
  assert.match(doc, new RegExp(`u8: ${FrameKind.request} request, ${FrameKind.reply} reply, ${FrameKind.error} error`));
  assert.match(doc, new RegExp(`MAX_FRAME\` = 1 MiB \\(${MAX_FRAME.toLocaleString('en-US')} bytes\\)`));
  assert.match(doc, new RegExp(`MAX_LIST\` = ${MAX_LIST}\\b`));
});

test('every status the docs cite with a number has that number in the status table', () => {
  let cited = 0;
  for (const file of fs.readdirSync(docsDir).filter((f) => f.endsWith('.md'))) {
    const text = read(file);
    // `ERROR_X (6)` in semantics.md, `ERROR_X` (6) in protocol.md.
    for (const m of text.matchAll(/\b(ERROR_[A-Z_]+)`? \((\d+)\)/g)) {
      const code = m[1] as keyof typeof Win32;
      assert.ok(code in Win32, `${file}: ${code} is not in the status table`);
      assert.equal(Number(m[2]), Win32[code][0], `${file}: number of ${code}`);
      cited++;
    }
  }
  assert.ok(cited > 0, 'the docs cite statuses with their numbers');
});
