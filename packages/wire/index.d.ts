// Parley's HTTP API wire shapes (times in epoch seconds), one module per area.
export type * from './src/analytics.js';
export type * from './src/audit.js';
export type * from './src/chats.js';
export type * from './src/completions.js';
export type * from './src/config.js';
export type * from './src/connections.js';
export type * from './src/errors.js';
export type * from './src/files.js';
export type * from './src/models.js';
export type * from './src/users.js';
