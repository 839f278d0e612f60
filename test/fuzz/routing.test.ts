import { fuzzTests } from './support/run.js';
import { targets } from './targets/routing.js';

fuzzTests(targets);
