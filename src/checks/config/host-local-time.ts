import { querySntp, SntpError } from '../support/sntp.js';
import { errorChain, failed, ok, warning, type CheckDefinition } from '../types.js';

const SNTP_TIMEOUT_MS = 5_000;
const MAX_OFFSET_S = 10;

const OUT_OF_SYNC =
  'Time on the device is out of sync with the NTP server. This may cause problems connecting to IoT Hub.\n' +
  'Please ensure time on device is accurate, for example by installing an NTP daemon.';

/** As in the real tool, only "cannot reach the server" is a warning: a device may simply be offline. */
function isUnreachable(error: unknown): boolean {
  return error instanceof SntpError && (error.reason === 'dns' || error.reason === 'timeout');
}

export const hostLocalTime: CheckDefinition = {
  id: 'host-local-time',
  run: async (ctx) => {
    let offsetMs: number;
    try {
      ({ offsetMs } = await querySntp(ctx.inputs.ntpServer, {
        timeoutMs: SNTP_TIMEOUT_MS,
        signal: ctx.signal,
      }));
    } catch (error) {
      const report = isUnreachable(error) ? warning : failed;
      return report('Could not query NTP server', errorChain(error), { offset: null });
    }
    // Whole seconds, truncated, as the real tool serializes it.
    const offset = Math.trunc(Math.abs(offsetMs) / 1000);
    if (offset >= MAX_OFFSET_S) return warning(OUT_OF_SYNC, undefined, { offset });
    return ok({ offset });
  },
};
