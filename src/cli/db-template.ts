import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, brotliCompressSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { installedPgliteVersion, TEMPLATE_FILE, TEMPLATE_MANIFEST, type TemplateManifest } from '../db/client.js';

// `npm run db:template`: rewrites the fresh cluster the embedded database starts from (see
// src/db/client.ts). Needed only after upgrading @electric-sql/pglite to another minor version;
// test/platform/embedded-template.test.ts says when.

// One ustar header; times and owners are zero, so only the cluster's own content varies.
function header(name: string, size: number, mode: number, type: '0' | '5'): Buffer {
  const h = Buffer.alloc(512);
  if (Buffer.byteLength(name) > 100) throw new Error(`path too long for the template: ${name}`);
  h.write(name, 0, 100, 'utf8');
  h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100, 8);
  h.write('0000000\0', 108, 8);
  h.write('0000000\0', 116, 8);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12);
  h.write('00000000000\0', 136, 12);
  h.write('        ', 148, 8);
  h.write(type, 156, 1);
  h.write('ustar\0', 257, 6);
  h.write('00', 263, 2);
  const sum = h.reduce((a, b) => a + b, 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

function tarDirectory(dir: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel)).sort()) {
      // The pid file of a stopped server is not part of a cluster.
      if (entry === 'postmaster.pid') continue;
      const path = rel ? `${rel}/${entry}` : entry;
      const st = statSync(join(dir, path));
      if (st.isDirectory()) {
        parts.push(header(`/${path}`, 0, 0o700, '5'));
        walk(path);
      } else {
        const data = readFileSync(join(dir, path));
        parts.push(header(`/${path}`, data.length, 0o600, '0'), data, Buffer.alloc((512 - (data.length % 512)) % 512));
      }
    }
  };
  walk('');
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

// initdb, then one start and a clean stop: what a first start would otherwise make, shut down cleanly.
const dir = mkdtempSync(join(tmpdir(), 'keel-template-'));
try {
  const client = new PGlite({ dataDir: dir, extensions: { pg_trgm } });
  await client.waitReady;
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.close();
  const tar = tarDirectory(dir);
  // A 16 MB window lets brotli find the three near-identical databases (template0, template1,
  // postgres) in each other: 1.5 MB instead of gzip's 4.5 MB.
  const packed = brotliCompressSync(tar, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: tar.length },
  });
  writeFileSync(TEMPLATE_FILE, packed);
  const manifest: TemplateManifest = { pglite: installedPgliteVersion(), postgres: rows[0]?.server_version ?? 'unknown', bytes: tar.length };
  writeFileSync(TEMPLATE_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`wrote ${TEMPLATE_FILE} (${packed.length} bytes; PGlite ${manifest.pglite}, PostgreSQL ${manifest.postgres})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
