export * from './org.js';
export * from './customers.js';
export * from './platform.js';
