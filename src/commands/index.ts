import Check from './check.js';
import CheckList from './check-list.js';
import Deploy from './deploy.js';
import Help from './help.js';
import HubStatus from './hub/status.js';
import IdentityAdd from './identity/add.js';
import IdentityList from './identity/list.js';
import IdentityRemove from './identity/remove.js';
import Invoke from './invoke.js';
import List from './list.js';
import Logs from './logs.js';
import Restart from './restart.js';
import Send from './send.js';
import SupportBundle from './support-bundle.js';
import SystemLogs from './system/logs.js';
import SystemStatus from './system/status.js';
import Version from './version.js';

/** oclif "explicit" command discovery: one map, no directory scan at start-up. */
export const commands = {
  check: Check,
  'check-list': CheckList,
  deploy: Deploy,
  help: Help,
  'hub:status': HubStatus,
  'identity:add': IdentityAdd,
  'identity:list': IdentityList,
  'identity:remove': IdentityRemove,
  invoke: Invoke,
  list: List,
  logs: Logs,
  restart: Restart,
  send: Send,
  'support-bundle': SupportBundle,
  'system:logs': SystemLogs,
  'system:status': SystemStatus,
  version: Version,
};
