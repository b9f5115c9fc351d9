import { writeFileSync } from 'node:fs';
import { renderOpenapi } from '../plugins/openapi-document.js';

// `npm run openapi`: regenerates openapi.yaml from the route schemas.
const yaml = await renderOpenapi();
writeFileSync(new URL('../../openapi.yaml', import.meta.url), yaml);
console.log('openapi.yaml written');
