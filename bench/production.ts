// The server is measured as the Dockerfile runs it: compiled (`npm run build`, dist/server.js),
// NODE_ENV=production, and these Node options (test/bench/production.test.ts keeps the two equal).
export const PRODUCTION_NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=32';
