/**
 * `-H/--host` is a global option of the real tool, allowed before the subcommand
 * (`iotedge -H unix:///run/mgmt.sock list`). oclif only takes flags after the command, so a
 * leading host option is moved behind the command (and its subcommand, for topics like `system`).
 */
export function moveLeadingHost(args: readonly string[]): string[] {
  const leading: string[] = [];
  let index = 0;
  while (index < args.length) {
    const arg = args[index];
    if (arg === '-H' || arg === '--host') {
      if (index + 1 >= args.length) break;
      leading.push(arg, args[index + 1]);
      index += 2;
    } else if (arg.startsWith('--host=') || (arg.startsWith('-H') && arg.length > 2)) {
      leading.push(arg);
      index += 1;
    } else {
      break;
    }
  }
  if (leading.length === 0) return [...args];
  const rest = args.slice(index);
  const commandWords = rest[0] === 'system' && rest[1] && !rest[1].startsWith('-') ? 2 : 1;
  return [...rest.slice(0, commandWords), ...leading, ...rest.slice(commandWords)];
}
