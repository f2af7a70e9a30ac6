/* Vite build: static files in dist/ (index.html + hashed assets/), the
 * layout `volsurf serve --static` and S3 + CloudFront expect. */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  base: './',
  build: { outDir: 'dist', assetsDir: 'assets', sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/ws': { target: 'ws://127.0.0.1:8080', ws: true } } },
  test: { include: ['src/**/*.test.ts'], testTimeout: 5000 },
});
