import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The manual stays whole: README.md is short, every relative link in README.md and docs/ leads to a
 * file of the repository (and to a heading of it, when the link names one), and nothing in the
 * repository points at files outside it.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README_MAX_BYTES = 12_288;

/** Folders never searched: installed packages, build output, version control. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git']);

function manualPages(): string[] {
  const docs = readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

function repositoryFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) {
      return SKIPPED_DIRS.has(entry.name) ? [] : repositoryFiles(path.join(dir, entry.name));
    }
    return entry.isFile() ? [path.relative(ROOT, path.join(dir, entry.name))] : [];
  });
}

/** Markdown without fenced code blocks and inline code, where brackets are not links. */
function proseOf(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The targets of the inline links `[text](target)` of a Markdown text. */
function linkTargets(markdown: string): string[] {
  return [...proseOf(markdown).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (match) => match[1]!,
  );
}

/** The anchor a forge gives a heading: lower case, punctuation dropped, spaces as hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings (repeated headings get -1, -2 … as on the forges). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = headingAnchor(match[1]!);
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n += 1) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** What is wrong with one relative link of `page`, or undefined when it leads somewhere real. */
function brokenLink(page: string, target: string): string | undefined {
  const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
  const linked =
    rawPath === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), rawPath));
  if (linked.startsWith('../') || path.posix.isAbsolute(linked)) return 'leads outside the repository';
  if (!existsSync(path.join(ROOT, linked))) {
    return `${linked} does not exist`;
  }
  if (anchor === undefined || anchor === '' || !linked.endsWith('.md')) return undefined;
  if (statSync(path.join(ROOT, linked)).isDirectory()) return undefined;
  const anchors = anchorsOf(readFileSync(path.join(ROOT, linked), 'utf8'));
  return anchors.has(anchor) ? undefined : `${linked} has no heading for #${anchor}`;
}

test('headings get the anchors the forges give them', () => {
  assert.equal(headingAnchor('The daemon: `iotedged`'), 'the-daemon-iotedged');
  assert.equal(
    headingAnchor('Identities from the parent (device scope)'),
    'identities-from-the-parent-device-scope',
  );
  assert.equal(headingAnchor('Where this differs from IoT Edge 1.1'), 'where-this-differs-from-iot-edge-11');
  assert.deepEqual([...anchorsOf('# A\n\n```\n# not a heading\n```\n## A\n')], ['a', 'a-1']);
});

test('links are read from prose, not from code', () => {
  const markdown = '[a](a.md) `[b](b.md)`\n```\n[c](c.md)\n```\n[d](<d.md> "title") [e](https://x.test/)';
  assert.deepEqual(linkTargets(markdown), ['a.md', 'd.md', 'https://x.test/']);
});

test(`README.md is at most ${README_MAX_BYTES} bytes`, () => {
  const size = statSync(path.join(ROOT, 'README.md')).size;
  assert.ok(size <= README_MAX_BYTES, `README.md is ${size} bytes; move detail into docs/`);
});

test('every relative link of README.md and docs/ leads to a file of the repository', () => {
  const broken = manualPages().flatMap((page) =>
    linkTargets(readFileSync(path.join(ROOT, page), 'utf8'))
      .filter((target) => !isExternal(target))
      .flatMap((target) => {
        const problem = brokenLink(page, target);
        return problem === undefined ? [] : [`${page}: (${target}) ${problem}`];
      }),
  );
  assert.deepEqual(broken, []);
});

test('no file of the repository points at files outside it', () => {
  // Spelt in pieces so that this file does not match itself.
  const outside = [
    ['..', '/shared'],
    ['/work', '/shared'],
    ['.md', ' §'],
  ].map((parts) => parts.join(''));
  const offending = repositoryFiles().flatMap((file) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    if (text.includes('\u0000')) return [];
    return outside.filter((needle) => text.includes(needle)).map((needle) => `${file}: "${needle}"`);
  });
  assert.deepEqual(offending, []);
});
