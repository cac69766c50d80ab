/**
 * Names of languages, frameworks, tools and platforms. Two questions that differ in one of these
 * ("in Python" vs "in Rust", make vs cmake) want different answers, so the synonym map never folds
 * them and the safety gates compare them exactly.
 */
export const TECH_TERMS: ReadonlySet<string> = new Set(
  `python python2 python3 rust java javascript typescript golang ruby php perl swift kotlin scala haskell
  elixir erlang clojure lua dart julia fortran cobol matlab r cplusplus csharp fsharp objective-c zig nim ocaml
  groovy bash zsh fish powershell shell sql graphql html css sass scss less wasm webassembly solidity
  react vue angular svelte solid nextjs nuxt remix gatsby ember jquery bootstrap tailwind
  node nodejs deno bun express fastify nestjs koa django flask fastapi rails laravel symfony spring springboot
  dotnet aspnet blazor xamarin flutter qt gtk electron tauri unity unreal godot
  numpy pandas scipy pytorch torch tensorflow keras sklearn jax matplotlib opencv
  cmake make gradle maven ant bazel meson ninja npm yarn pnpm pip pipenv poetry conda cargo composer nuget gem
  webpack vite rollup esbuild babel eslint prettier jest mocha vitest pytest junit
  docker podman kubernetes k8s helm terraform ansible vagrant nginx apache caddy
  linux windows macos mac osx ubuntu debian fedora centos arch alpine android ios ipad iphone
  postgres postgresql mysql mariadb sqlite redis mongodb mongo cassandra elasticsearch kafka rabbitmq dynamodb
  aws azure gcp heroku vercel netlify firebase supabase
  git github gitlab svn mercurial vscode vim neovim emacs intellij eclipse xcode
  chrome firefox safari edge chromium
  openai anthropic claude gpt chatgpt gemini llama mistral copilot
  json yaml toml xml csv protobuf grpc rest soap http https tcp udp websocket ssh ftp
  utf8 ascii unicode jwt oauth saml ldap`
    .split(/\s+/)
    .filter(Boolean),
);

/** Spellings with punctuation, rewritten to one token before tokenising ("C++" → "cplusplus"). */
export const TECH_SPELLINGS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bc\+\+/gi, ' cplusplus '],
  [/\bc#/gi, ' csharp '],
  [/\bf#/gi, ' fsharp '],
  [/(^|\s)\.net\b/gi, ' dotnet '],
  [/\basp\.net\b/gi, ' aspnet '],
  [/\bnode\.js\b/gi, ' nodejs '],
  [/\bnext\.js\b/gi, ' nextjs '],
  [/\bvue\.js\b/gi, ' vue '],
  [/\breact\.js\b/gi, ' react '],
  [/\bobjective-c\b/gi, ' objective-c '],
];
