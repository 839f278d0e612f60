import { fuzzTests } from './support/run.js';
import { targets } from './targets/manifest.js';

fuzzTests(targets);
