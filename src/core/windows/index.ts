export * from './window-spec.js';
export * from './pane-layout.js';
export * from './pane.js';
export * from './partition-windows.js';
