import Check from './check.js';
import CheckList from './check-list.js';
import Help from './help.js';
import Version from './version.js';

/** oclif "explicit" command discovery: one map, no directory scan at start-up. */
export const commands = {
  check: Check,
  'check-list': CheckList,
  help: Help,
  version: Version,
};
