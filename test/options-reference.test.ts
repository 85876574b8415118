// docs/options.md is what scripts/options-reference.ts writes from the declarations, covers every declaration and
// function, and the links to it from the library's TSDoc land on a section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as library from '../src/index.js';
import type { Declaration } from '../src/options/declare.js';
import { optionsReference, REFERENCED, REFERENCE_FILE } from '../scripts/options-reference.js';

test('docs/options.md is up to date with the declarations', () => {
  assert.equal(
    readFileSync(REFERENCE_FILE, 'utf8'),
    optionsReference(),
    `${REFERENCE_FILE} is stale: run \`make dist-test/.stamp && node dist-test/scripts/options-reference.js\` and commit it`,
  );
});

test('the page covers every declaration under src/options, each with its exported library function', async () => {
  const compiled = fileURLToPath(new URL('../src/options/', import.meta.url));
  const declared = new Set<Declaration>();
  for (const file of readdirSync(compiled).filter((f) => f.endsWith('.js'))) {
    const exports = Object.values(await import(join(compiled, file))) as unknown[];
    for (const value of exports) if (typeof value === 'object' && value !== null && 'command' in value && 'specs' in value) declared.add(value as Declaration);
  }
  assert.deepEqual(new Set(REFERENCED.map((r) => r.declaration)), declared);
  for (const { fn } of REFERENCED) assert.equal(typeof (library as Record<string, unknown>)[fn], 'function', `${fn} is exported`);
});

test('every link to docs/options.md in src/api names a section of it', () => {
  const sections = new Set(REFERENCED.map((r) => r.declaration.command));
  const links = readdirSync('src/api').flatMap((file) => [...readFileSync(join('src/api', file), 'utf8').matchAll(/docs\/options\.md#([\w-]+)/g)].map((m) => [file, m[1]!]));
  assert.ok(links.length > 0);
  for (const [file, anchor] of links) assert.ok(sections.has(anchor!), `${file}: docs/options.md#${anchor}`);
});
