import { fuzzTests } from './support/run.js';
import { targets } from './targets/sas.js';

fuzzTests(targets);
