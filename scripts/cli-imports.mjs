// Routes the CLI bundle's dynamic `import()`s through `module.isartorImport` when the loader that
// ran it set one (bin/codeCache.js). In Node 20 an `import()` in code compiled from a V8 code cache
// finds no import callback (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING): the deserialised script has
// lost the host-defined options that name it. Required plainly (`node dist/cli.js`), the bundle
// imports by itself as before. The specifiers are bare package names (the externals in
// scripts/build.mjs), which resolve the same from bin/ as from dist/.
const HOOK = '__isartorImport';
/** Defined on the directive's own line, so the source map's lines stay right. */
const DEFINE = `var ${HOOK} = module.isartorImport || ((specifier) => import(specifier));`;
const DIRECTIVE = '"use strict";';

/**
 * Returns `text` (a CommonJS bundle) with every `import()` of a string literal called through the
 * hook, defined first (after a "use strict" directive, which must stay first). A call can be told
 * by its literal alone (a method named `import` takes no string as a parameter); one in a comment
 * is rewritten too, harmlessly (comments are not reliably told from code in minified output).
 *
 * @example routeDynamicImports('"use strict";\nimport("redis");') === `"use strict";${DEFINE}\n__isartorImport("redis");`
 */
export function routeDynamicImports(text) {
  const routed = text.replace(/(?<![\w$.])import\s*\(\s*("[^"\\\n]*"|'[^'\\\n]*')\s*\)/g, `${HOOK}($1)`);
  return routed.startsWith(DIRECTIVE) ? `${DIRECTIVE}${DEFINE}${routed.slice(DIRECTIVE.length)}` : `${DEFINE}${routed}`;
}
