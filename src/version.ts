/** mt's version, read from package.json so there is one place to bump it. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const MT_VERSION: string = (require('../package.json') as { version: string }).version;
