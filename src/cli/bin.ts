import { exitOnUncaught, main } from './main.js';

exitOnUncaught();
process.exitCode = await main(process.argv.slice(2));
