export * from './org.js';
export * from './customers.js';
export * from './contact-history.js';
export * from './lifecycle.js';
export * from './opportunities.js';
export * from './platform.js';
export * from './orders.js';
export * from './value.js';
