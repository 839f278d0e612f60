import type { RunOptions } from '../checks/runner.js';
import { withSpinner } from './progress.js';

/**
 * The check runner's resources with a spinner around the diagnostics image: building it on a
 * device can take a minute, and the checks that need it wait silently otherwise.
 */
export function withImageSpinner(resources: RunOptions['resources'], json: boolean): RunOptions['resources'] {
  const image = resources?.diagnosticsImage;
  if (!image) return resources;
  return {
    ...resources,
    diagnosticsImage: {
      ...image,
      compute: (facts, inputs, signal) =>
        withSpinner('Preparing the diagnostics image', json, () => image.compute(facts, inputs, signal)),
    },
  };
}
