import { fuzzTests } from './support/run.js';
import { targets } from './targets/mqtt-topics.js';

fuzzTests(targets);
