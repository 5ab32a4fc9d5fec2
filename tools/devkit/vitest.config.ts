import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'devkit',
    include: ['test/**/*.test.ts'],
  },
});
