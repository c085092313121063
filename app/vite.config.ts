import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The built files are embedded into the harmony binary (cmake/embed_app.cmake) and served from
// the API's origin, so everything is relative to / and nothing is fetched from elsewhere.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev`: the API of a `harmony serve --cors-origin http://localhost:5173` on 8717.
    proxy: { '/v1': { target: 'http://127.0.0.1:8717', ws: true }, '/health': 'http://127.0.0.1:8717' },
  },
  test: { include: ['src/**/*.test.ts'] },
});
