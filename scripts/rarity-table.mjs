// Generates src/core/embed/rarity-ranks.json: every word w for which " w" encodes to one o200k token
// of rank < 50,000, with that rank. The lexical embedder's rarity weight depends on nothing else
// (rarer or multi-token words weigh 1), so the semantic worker need not load the 200k-entry
// tokenizer table (~43 MB of heap) to embed. Run after upgrading gpt-tokenizer:
//   node scripts/rarity-table.mjs
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const o200k = require('gpt-tokenizer/encoding/o200k_base');
const { version } = require('gpt-tokenizer/package.json');

/** Ranks at or above this weigh 1 (rarity.ts: RARE_RANK). */
const RARE_RANK = 50_000;
/** rarity.ts never encodes longer words (MAX_ENCODED_WORD). */
const MAX_ENCODED_WORD = 32;
const options = { disallowedSpecial: new Set() };

const words = [];
const ranks = [];
for (let rank = 0; rank < RARE_RANK; rank++) {
  const text = o200k.decode([rank]);
  if (!text.startsWith(' ') || text.length - 1 > MAX_ENCODED_WORD) continue;
  // A token whose bytes are not whole UTF-8 characters does not decode to itself: no word encodes to it.
  const again = o200k.encode(text, options);
  if (again.length !== 1 || again[0] !== rank) continue;
  words.push(text.slice(1));
  ranks.push(rank);
}
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'core', 'embed', 'rarity-ranks.json');
writeFileSync(out, `${JSON.stringify({ source: `gpt-tokenizer ${version} o200k_base, ranks < ${RARE_RANK}`, words, ranks })}\n`);
console.log(`${words.length} words written to ${out}`);
