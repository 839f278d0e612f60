import { fuzzTests } from './support/run.js';
import { targets } from './targets/time-args.js';

fuzzTests(targets);
