// src/ imports omit the `.ts` extension (bundler style, as wrangler and vitest resolve them). Importing this
// module first lets Node's type stripping resolve them too, so tools can reuse src/ code (the chunk codec).
import { registerHooks } from "node:module";

registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (err) {
      if (specifier.startsWith(".") && !specifier.endsWith(".ts")) return next(`${specifier}.ts`, context);
      throw err;
    }
  },
});
