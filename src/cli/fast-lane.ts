/**
 * The commands operators and scripts call most often (`version`, `check-list`, `list`, each also
 * with `--json`) are answered without loading the CLI framework, so they start about as fast as
 * Node itself. They print exactly what the oclif commands of the same name print.
 */
export async function runFastLane(args: readonly string[]): Promise<boolean> {
  if (args[0] === 'list') {
    const { runListFast } = await import('./list-fast.js');
    if (await runListFast([...args])) return true;
  }
  const json = args.length === 2 && args[1] === '--json';
  if (args.length !== 1 && !json) return false;
  const [command] = args;
  if (command === 'version' || (!json && (command === '--version' || command === '-V'))) {
    const [{ versionLine }, { versionJson }, { jsonText }] = await Promise.all([
      import('../version.js'),
      import('./plain-outputs.js'),
      import('./json-text.js'),
    ]);
    process.stdout.write(json ? jsonText(versionJson()) : `${versionLine()}\n`);
    return true;
  }
  if (command === 'check-list') {
    const [{ CHECKS }, { renderCheckList }, { checkListJson }, { jsonText }] = await Promise.all([
      import('../checks/catalog.js'),
      import('../checks/render-check-list.js'),
      import('./plain-outputs.js'),
      import('./json-text.js'),
    ]);
    process.stdout.write(json ? jsonText(checkListJson(CHECKS)) : renderCheckList(CHECKS));
    return true;
  }
  return false;
}
