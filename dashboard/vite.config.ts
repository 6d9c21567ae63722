/**
 * Builds the dashboard page into dist/dashboard (`npm run build`), which the object manager
 * serves from disk (src/broker/dashboard.ts): no CDN, nothing fetched at run time.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../dist/dashboard'),
    emptyOutDir: true,
    target: 'es2022',
    // One script and one stylesheet: the page is small, and nothing is loaded lazily.
    modulePreload: false,
    sourcemap: false,
  },
});
