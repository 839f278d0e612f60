import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The layers of the source tree, read from the import specifiers of every .ts file under src/:
 * a forbidden import fails the test with a list of `file → import` lines.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SRC = path.join(ROOT, 'src');

/** Static imports and re-exports (`import type` too), side-effect imports, dynamic imports of a literal. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"\n]+)\1/gm;

function importSpecifiers(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((match) => match[2]!);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Each relative import of each file under src/, as repository paths (`src/runtime/hub/hub.ts`). */
function importGraph(): { file: string; target: string; specifier: string }[] {
  return sourceFiles(SRC).flatMap((file) =>
    importSpecifiers(readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
      .map((specifier) => ({
        file: path.relative(ROOT, file),
        target: path.relative(ROOT, path.resolve(path.dirname(file), specifier)).replace(/\.js$/, '.ts'),
        specifier,
      })),
  );
}

interface Rule {
  /** What the rule keeps apart, in words. */
  name: string;
  from: string;
  /** Folders (or files) under src/ that `from` must not import. */
  forbidden: string[];
  /** Exceptions inside `forbidden`. */
  allowed?: string[];
}

const inside = (file: string, folder: string) => file === folder || file.startsWith(`${folder}/`);

const RULES: Rule[] = [
  {
    name: 'the runtime never imports the CLI or the checks',
    from: 'src/runtime',
    forbidden: ['src/checks', 'src/cli', 'src/commands'],
  },
  { name: 'the agent does not import the hub', from: 'src/runtime/agent', forbidden: ['src/runtime/hub'] },
  { name: 'the hub does not import the agent', from: 'src/runtime/hub', forbidden: ['src/runtime/agent'] },
  {
    name: 'module runtimes do not import the agent',
    from: 'src/runtime/modules',
    forbidden: ['src/runtime/agent'],
  },
  {
    name: 'deployment parsing imports neither the agent, the hub nor the daemon',
    from: 'src/runtime/deployment',
    forbidden: ['src/runtime/agent', 'src/runtime/hub', 'src/runtime/daemon'],
  },
  {
    name: 'routing imports nothing of the runtime but itself',
    from: 'src/runtime/routing',
    forbidden: ['src'],
    allowed: ['src/runtime/routing'],
  },
];

test('the import specifiers of a file are found in every form', () => {
  const source = [
    "import a from './a.js';",
    "import type { B } from '../b.js';",
    'import {',
    '  c,',
    "} from './c.js';",
    "export { d } from './d.js';",
    "import './e.js';",
    "const f = await import('./f.js');",
    "const text = 'not from here';",
  ].join('\n');
  assert.deepEqual(importSpecifiers(source), ['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js']);
});

test('no source file imports across a layer it must not cross', () => {
  const graph = importGraph();
  assert.ok(graph.length > 500, `only ${graph.length} imports found under ${SRC}`);
  const offences = RULES.flatMap((rule) =>
    graph
      .filter(({ file }) => inside(file, rule.from))
      .filter(({ target }) => rule.forbidden.some((folder) => inside(target, folder)))
      .filter(({ target }) => !(rule.allowed ?? []).some((folder) => inside(target, folder)))
      .map(({ file, specifier }) => `${rule.name}: ${file} → ${specifier}`),
  );
  assert.deepEqual(offences, [], `forbidden imports:\n${offences.join('\n')}`);
});
