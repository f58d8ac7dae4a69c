// The engine's public surface: the Engine class and its vocabulary.
export { Engine, type EngineOptions, parseSignal } from './engine.js';
export type * from './api.js';
export * from './types.js';
export type { CgroupStats, CgroupWrite } from './cgroups/types.js';
