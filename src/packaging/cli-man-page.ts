import { roffLines, roffText, roffTitle } from './roff.js';

/** The parts of an oclif command's metadata that the manual shows. */
export interface ManFlag {
  name: string;
  type: 'option' | 'boolean';
  char?: string;
  description?: string;
  summary?: string;
  default?: unknown;
  env?: string;
  helpValue?: string | string[];
  options?: readonly string[];
  multiple?: boolean;
  hidden?: boolean;
  allowNo?: boolean;
}

export interface ManArg {
  name: string;
  description?: string;
  required?: boolean;
}

export interface ManCommand {
  id: string;
  description?: string;
  summary?: string;
  hidden?: boolean;
  args: Record<string, ManArg>;
  flags: Record<string, ManFlag>;
  examples?: readonly (string | { command: string; description: string })[];
}

export interface CliManPage {
  bin: string;
  version: string;
  /** The page's date, YYYY-MM-DD. */
  date: string;
  description: string;
  /** oclif's separator between topic and command (`identity:add` is shown as `identity add`). */
  topicSeparator: string;
  commands: readonly ManCommand[];
}

const displayId = (id: string, separator: string) => id.split(':').join(separator);

/** `<%= config.bin %>` in oclif examples is the command's name. */
const expandBin = (text: string, bin: string) => text.replace(/<%=\s*config\.bin\s*%>/g, bin);

function flagValue(flag: ManFlag): string {
  if (flag.type === 'boolean') return '';
  const help = Array.isArray(flag.helpValue) ? flag.helpValue.join(' ') : flag.helpValue;
  const value = help ?? (flag.options ? flag.options.join('|') : `<${flag.name.toUpperCase()}>`);
  return ` \\fI${roffText(value)}\\fR`;
}

function flagHeading(flag: ManFlag): string {
  const long = flag.allowNo ? `\\-\\-[no\\-]${roffText(flag.name)}` : `\\-\\-${roffText(flag.name)}`;
  const names = flag.char ? `\\fB\\-${roffText(flag.char)}\\fR, \\fB${long}\\fR` : `\\fB${long}\\fR`;
  return names + flagValue(flag);
}

function flagNotes(flag: ManFlag): string[] {
  const notes: string[] = [];
  const shown = ['string', 'number'].includes(typeof flag.default) && flag.default !== '';
  if (shown) notes.push(`default: ${String(flag.default)}`);
  if (flag.env) notes.push(`environment: ${flag.env}`);
  if (flag.multiple) notes.push('may be given more than once');
  return notes;
}

function flagItem(flag: ManFlag): string {
  const text = flag.description ?? flag.summary ?? '';
  const notes = flagNotes(flag);
  const body = notes.length > 0 ? `${text} (${notes.join('; ')})` : text;
  return `.TP\n${flagHeading(flag)}\n${roffLines(body)}`;
}

function synopsis(command: ManCommand, page: CliManPage): string {
  const args = Object.values(command.args)
    .map((arg) =>
      arg.required
        ? `\\fI${roffText(arg.name.toUpperCase())}\\fR`
        : `[\\fI${roffText(arg.name.toUpperCase())}\\fR]`,
    )
    .join(' ');
  const hasFlags = Object.values(command.flags).some((flag) => !flag.hidden);
  const words = [`\\fB${roffText(page.bin)} ${roffText(displayId(command.id, page.topicSeparator))}\\fR`];
  if (hasFlags) words.push('[\\fIOPTIONS\\fR]');
  if (args) words.push(args);
  return words.join(' ');
}

function exampleLines(command: ManCommand, bin: string): string[] {
  const lines: string[] = [];
  for (const example of command.examples ?? []) {
    if (typeof example === 'string') lines.push(expandBin(example, bin));
    else lines.push(`# ${expandBin(example.description, bin)}`, expandBin(example.command, bin));
  }
  return lines;
}

function commandSection(command: ManCommand, page: CliManPage): string {
  const parts = [`.SS ${synopsis(command, page)}`];
  const text = command.description ?? command.summary;
  if (text) parts.push(roffLines(expandBin(text, page.bin)));
  for (const arg of Object.values(command.args)) {
    parts.push(`.TP\n\\fI${roffText(arg.name.toUpperCase())}\\fR\n${roffLines(arg.description ?? '')}`);
  }
  const flags = Object.values(command.flags)
    .filter((flag) => !flag.hidden)
    .sort((a, b) => a.name.localeCompare(b.name));
  parts.push(...flags.map(flagItem));
  const examples = exampleLines(command, page.bin);
  if (examples.length > 0) {
    parts.push('.PP\nExamples:\n.PP\n.RS 4\n.nf', ...examples.map((line) => roffLines(line)), '.fi\n.RE');
  }
  return parts.join('\n');
}

/**
 * iotedge(1): every visible command with its arguments, options and examples, from the same
 * metadata that `iotedge --help` prints, so the page lists exactly the commands of the build.
 */
export function renderCliManPage(page: CliManPage): string {
  const visible = page.commands.filter((command) => !command.hidden).sort((a, b) => a.id.localeCompare(b.id));
  const bin = roffText(page.bin);
  return [
    `.\\" Generated from the command metadata of ${bin} ${roffText(page.version)}; do not edit.`,
    roffTitle(page.bin, 1, page.date, `iotedge-ts ${page.version}`, 'User Commands'),
    '.SH NAME',
    `${bin} \\- ${roffText(page.description.replace(/^The iotedge tool is used to /, '').replace(/\.$/, ''))}`,
    '.SH SYNOPSIS',
    `\\fB${bin}\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]`,
    '.br',
    `\\fB${bin} help\\fR [\\fICOMMAND\\fR]`,
    '.SH DESCRIPTION',
    roffLines(page.description),
    'Commands that talk to the daemon reach',
    '.BR iotedged (8)',
    'over its management socket, given by \\fB\\-H\\fR or \\fBIOTEDGE_HOST\\fR.',
    'Every command takes \\fB\\-h\\fR for its help.',
    '.SH COMMANDS',
    ...visible.map((command) => commandSection(command, page)),
    '.SH ENVIRONMENT',
    '.TP',
    '.B IOTEDGE_HOST',
    'The management socket of the daemon when no \\fB\\-H\\fR is given (default unix:///var/run/iotedge/mgmt.sock).',
    '.TP',
    '.B NO_COLOR',
    'No colour in the output, even on a terminal.',
    '.SH FILES',
    '.TP',
    '.I /etc/iotedge/config.yaml',
    'The daemon\\(aqs configuration, read by \\fBcheck\\fR.',
    '.TP',
    '.I /var/run/iotedge/mgmt.sock',
    'The daemon\\(aqs management socket.',
    '.SH EXIT STATUS',
    '0 on success; 1 on a failure or a usage error, with a message on standard error.',
    '.SH SEE ALSO',
    '.BR iotedged (8)',
    '',
  ].join('\n');
}
