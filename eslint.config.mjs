// Lint rules for Glassbox. Most are the usual recommended sets; the `no-restricted-imports` blocks
// encode the house's layering (design.md, "Rules of the house"), so a change that crosses a layer
// fails `npm run lint`, and with it `npm test`:
//   - the engine imports no adapter, no web framework and no dashboard code;
//   - adapters (Docker API, REST, socket.io, server/main.ts) import the engine only through its one
//     public surface, server/engine/index.ts;
//   - the dashboard imports only types from server/ (values it shares with the server live in common/);
//   - the lab runner (server/labs/) is an adapter too; a lab (labs/<id>/lab.ts) imports only the lab
//     format (server/labs/format.ts) and types from the engine's surface.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const engineInternals = {
  // any path into the engine except its index (`../engine/index.js`, `../../engine/index.js`)
  regex: String.raw`(^|/)engine/(?!index(\.js)?$)`,
  message: 'Adapters use the engine only through server/engine/index.ts: export what you need there.',
};

export default tseslint.config(
  { ignores: ['.next/**', 'node_modules/**', 'native/build/**', 'test-results/**', 'public/**', 'next-env.d.ts', 'dist/**', 'dist.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // empty catch blocks carry a comment saying why the error does not matter
      'no-empty': ['error', { allowEmptyCatch: false }],
      // control characters are what a terminal and the helper's percent-encoding deal in
      'no-control-regex': 'off',
      // `let x = fallback; try { x = read() } catch { … }` is the house idiom for optional kernel files
      'no-useless-assignment': 'off',
    },
  },
  {
    files: ['server/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: String.raw`(^|/)(api|realtime)/`, message: 'The engine knows nothing of HTTP or sockets: adapters import the engine, not the reverse.' },
          { regex: String.raw`(^|/)(components|app)/`, message: 'The engine does not import dashboard code.' },
          { regex: String.raw`^(next|react|react-dom|socket\.io)(/|$)`, message: 'The engine does not use a web framework.' },
        ],
      }],
    },
  },
  {
    files: ['server/api/**/*.ts', 'server/realtime/**/*.ts', 'server/classroom/**/*.ts', 'server/labs/**/*.ts', 'server/main.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [engineInternals] }] },
  },
  {
    files: ['labs/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { regex: String.raw`^(?!\.\./\.\./server/labs/format\.js$)(?!\.\./\.\./server/engine/index\.js$)`, message: 'A lab imports only ../../server/labs/format.js (and types from ../../server/engine/index.js): its checks read the kernel through the LabKernel they are given.' },
          { regex: String.raw`(^|/)server/engine/index\.js$`, allowTypeImports: true, message: 'A lab takes only types from the engine: its checks read the kernel through the LabKernel they are given.' },
        ],
      }],
    },
  },
  {
    files: ['components/**/*.{ts,tsx}', 'app/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      // the two classic hook rules; the React Compiler's rules (refs, purity, set-state-in-effect) are
      // for code the compiler rewrites, and the dashboard does not use the compiler
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ regex: String.raw`(^|/)server/`, allowTypeImports: true, message: 'The dashboard imports only types from server/; shared values live in common/.' }],
      }],
    },
  },
);
