/**
 * The CLI build's import() routing (scripts/cli-imports.mjs): code run from a V8 code cache in
 * Node 20 cannot import() by itself, so the bundle calls the loader's hook instead.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

type Route = (text: string) => string;
const load = async (): Promise<Route> =>
  ((await import(pathToFileURL(join(__dirname, '..', '..', 'scripts', 'cli-imports.mjs')).href)) as { routeDynamicImports: Route }).routeDynamicImports;

describe('routing the CLI bundle\'s import() calls', () => {
  it('routes import() of a literal through the hook, defined first and after "use strict"', async () => {
    const route = await load();
    const define = 'var __isartorImport = module.isartorImport || ((specifier) => import(specifier));';
    assert.equal(
      route('"use strict";\nconst x = await import("redis"); y = import( \'a-b\' ); class A { import(a) {} }; obj.import("b"); reimport("c");'),
      `"use strict";${define}\nconst x = await __isartorImport("redis"); y = __isartorImport('a-b'); class A { import(a) {} }; obj.import("b"); reimport("c");`,
    );
    // A minified bundle has no directive: the hook comes first, on the first line.
    assert.equal(route('var a=import("x");'), `${define}var a=__isartorImport("x");`);
  });
});
