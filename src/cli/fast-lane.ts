/**
 * The commands operators and scripts call most often (`version`, `check-list`, `list`) are
 * answered without loading the CLI framework, so they start about as fast as Node itself.
 * They render exactly what the oclif commands of the same name render.
 */
export async function runFastLane(args: readonly string[]): Promise<boolean> {
  if (args[0] === 'list') {
    const { runListFast } = await import('./list-fast.js');
    if (await runListFast([...args])) return true;
  }
  if (args.length !== 1) return false;
  const [command] = args;
  if (command === 'version' || command === '--version' || command === '-V') {
    const { versionLine } = await import('../version.js');
    process.stdout.write(`${versionLine()}\n`);
    return true;
  }
  if (command === 'check-list') {
    const [{ CHECKS }, { renderCheckList }] = await Promise.all([
      import('../checks/catalog.js'),
      import('../checks/render-check-list.js'),
    ]);
    process.stdout.write(renderCheckList(CHECKS));
    return true;
  }
  return false;
}
