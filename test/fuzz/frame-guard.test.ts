import { fuzzTests } from './support/run.js';
import { targets } from './targets/frame-guard.js';

fuzzTests(targets);
