import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'transport',
    include: ['test/**/*.test.ts'],
  },
});
