/** mt's library API: what the CLI calls and what tests and other programs can call directly. */
export { initBackend, activeBackend, type BackendInfo } from './backend/index.ts';
export { BACKEND_NAMES, type BackendName } from './backend/names.ts';
export { loadConfigFile, parseConfigText, parseOverride, ConfigError, type ConfigProblem } from './config/load.ts';
export { ConfigSchema, type Config, type ModelConfig } from './config/schema.ts';
export { RunDir, LAYOUT, type Manifest } from './run/rundir.ts';
export { UserError } from './errors.ts';
export { writeFileAtomic, writeJsonAtomic } from './util/atomic.ts';
export { MT_VERSION } from './version.ts';
