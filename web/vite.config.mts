import { defineConfig } from 'vite';

// The console is served by the api at `/` (api/console.ts): assets under /assets/, built into web/dist.
export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // The pipeline page's layout engine (elkjs's bundled build, ~1.5 MB) is a chunk of its own, loaded
  // only by that page: the size warning is for the chunks every page loads.
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', target: 'es2022', chunkSizeWarningLimit: 1600 },
  // `npx vite web` during development: API calls go to a running api (npm run dev).
  server: { proxy: { '/v0': `http://127.0.0.1:${process.env.BENCHLINE_API_PORT ?? 8080}` } },
});
