// Lint rules that keep the architecture honest: `vscode` stays out of the engine, proxy, CLI and
// webview; promises are never dropped by accident (`void` marks a deliberate fire-and-forget).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.*/**', 'dist/**', 'node_modules/**', '.cache/**', 'test/e2e/lm-client-extension/**', 'bench/**', '**/*.mjs', 'bin/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/proxy/**/*.ts', 'src/bench/**/*.ts', 'src/cli.ts', 'src/cli/**/*.ts', 'webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'Only src/extension may import vscode.' }] }],
    },
  },
);
