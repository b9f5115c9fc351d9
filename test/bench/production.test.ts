import { readFileSync } from 'node:fs';
import t from 'tap';
import { PRODUCTION_NODE_OPTIONS } from '../../bench/production.js';

// The benchmark claims to measure the server as the image runs it; this keeps that claim true.
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');

t.test('the benchmark runs the server with the Dockerfile’s settings', async (t) => {
  t.ok(dockerfile.includes(`NODE_OPTIONS="${PRODUCTION_NODE_OPTIONS}"`), 'the same Node options');
  t.match(dockerfile, /NODE_ENV=production/, 'production mode');
  t.match(dockerfile, /exec node dist\/server\.js/, 'the compiled server');
  t.match(dockerfile, /npm run build/, 'built in the image');
});
