export * from './reference-profile.js';
