import { fuzzTests } from './support/run.js';
import { targets } from './targets/config.js';

fuzzTests(targets);
