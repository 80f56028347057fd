import { defineConfig } from "vitest/config";

// One self-contained IIFE: the loader that a business pastes into its page. It mounts the whole chat
// in a shadow root, so there is nothing else to fetch (see docs/widget.md for the size budget).
export default defineConfig({
  build: {
    target: "es2019",
    outDir: "dist",
    emptyOutDir: true,
    minify: "esbuild",
    sourcemap: false,
    lib: {
      entry: "src/loader.ts",
      name: "ParleyWidget",
      formats: ["iife"],
      fileName: () => "widget.js",
    },
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.ts"],
  },
});
