/** Backend names, kept apart from the loader so that config parsing does not load tfjs. */
export const BACKEND_NAMES = ['auto', 'gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackend = Exclude<BackendName, 'auto'>;
