export * from './types.js';
export * from './ids.js';
export * from './evaluate-window.js';
export * from './alert-conditions.js';
export * from './alert-tracker.js';
