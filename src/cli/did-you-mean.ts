/** Levenshtein distance between two command ids (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The command the user most likely meant by `typed` (ids as the user types them, words split by
 * spaces), or undefined when none is near: at most half of what was typed differs (two edits at least).
 */
export function closestCommand(typed: string, commands: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(typed.length / 2));
  let best: { id: string; distance: number } | undefined;
  for (const id of commands) {
    const distance = editDistance(typed, id);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { id, distance };
  }
  return best?.id;
}

/**
 * What a mistyped command prints on stderr (exit code 127, as a shell's "command not found"):
 * `lsit is not an iotedge command. Did you mean list?` and where the commands (of `topic`, when the
 * first word is one) are listed.
 */
export function notFoundMessage(
  typed: string,
  suggestion: string | undefined,
  bin: string,
  topic?: string,
): string {
  const hint = suggestion === undefined ? '' : ` Did you mean ${suggestion}?`;
  return `${typed} is not an ${bin} command.${hint}\nRun '${[bin, 'help', topic].filter(Boolean).join(' ')}' for a list of available commands.\n`;
}
