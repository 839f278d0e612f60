import { fuzzTests } from './support/run.js';
import { targets } from './targets/twin.js';

fuzzTests(targets);
