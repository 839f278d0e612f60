import type { CheckInfo } from './catalog.js';

/**
 * The `iotedge check-list` table: CATEGORY and ID columns padded to their widest cell plus one,
 * a blank line after the header and after each category.
 */
export function renderCheckList(checks: readonly CheckInfo[]): string {
  const categoryWidth = Math.max(...checks.map((check) => check.category.length)) + 1;
  const idWidth = Math.max(...checks.map((check) => check.id.length)) + 1;
  const row = (category: string, id: string, description: string) =>
    `${category.padEnd(categoryWidth)}${id.padEnd(idWidth)}${description}\n`;

  let text = row('CATEGORY', 'ID', 'DESCRIPTION') + '\n';
  checks.forEach((check, index) => {
    text += row(check.category, check.id, check.description);
    if (checks[index + 1]?.category !== check.category) text += '\n';
  });
  return text;
}
