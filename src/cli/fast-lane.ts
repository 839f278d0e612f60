/**
 * Commands that take no arguments are answered without loading the CLI framework, so the
 * commands operators and scripts call most often start about as fast as Node itself.
 * They render exactly what the oclif commands of the same name render.
 */
export async function runFastLane(args: readonly string[]): Promise<boolean> {
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
