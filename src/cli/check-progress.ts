import type { RunOptions } from '../checks/runner.js';
import { withSpinner } from './progress.js';
import type { LinesAboveSpinner } from './spinner-lines.js';

/**
 * The check runner's resources with a spinner around the diagnostics image: building it on a
 * device can take a minute, and the checks that need it wait silently otherwise. The other checks'
 * lines, printed meanwhile, go through `writer`, which keeps the spinner below them.
 */
export function withImageSpinner(
  resources: RunOptions['resources'],
  json: boolean,
  writer: LinesAboveSpinner,
): RunOptions['resources'] {
  const image = resources?.diagnosticsImage;
  if (!image) return resources;
  return {
    ...resources,
    diagnosticsImage: {
      ...image,
      compute: (facts, inputs, signal) =>
        withSpinner('Preparing the diagnostics image', { json, writer }, () =>
          image.compute(facts, inputs, signal),
        ),
    },
  };
}
