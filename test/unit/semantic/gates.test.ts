// Each safety gate on its own, and the lexical embedder's folding (synonyms, case, punctuation).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dot } from '../../../src/core/embed/embedder';
import { contentTerms, createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { wordWeight } from '../../../src/core/embed/rarity';
import { foldSynonym } from '../../../src/core/embed/synonyms';
import { checkGates, gateSignature, pluralStem } from '../../../src/core/semantic/gates';
import { ALL_GATES, LEXICAL_GATES } from '../../../src/core/semantic/gateSets';

const gate = (a: string, b: string, strictWording = true): string | undefined =>
  checkGates(gateSignature(a), gateSignature(b), { gates: strictWording ? LEXICAL_GATES : new Set([...ALL_GATES].filter((g) => g !== 'wording')) });

describe('safety gates', () => {
  const cases: Array<[string, string, string, string]> = [
    ['numbers', 'Retry 3 times', 'Retry 4 times', 'numbers'],
    ['camelCase', 'What does useState return?', 'What does useEffect return?', 'identifiers'],
    ['identifier case', 'What does useState return?', 'What does usestate return?', 'identifiers'],
    ['snake_case', 'Rename user_id', 'Rename user_key', 'identifiers'],
    ['paths', 'Explain src/index.ts', 'Explain src/main.ts', 'identifiers'],
    ['digits inside words', 'Decode utf8', 'Decode utf16', 'numbers'],
    ['dotted names', 'Explain os.path', 'Explain os.walk', 'identifiers'],
    ['quoted strings', 'Why does it print "a b"?', 'Why does it print "a, b"?', 'identifiers'],
    ['inline code', 'What does `ls -l` do?', 'What does `ls -a` do?', 'code'],
    ['fenced code', 'Fix:\n```\na + b\n```', 'Fix:\n```\na - b\n```', 'code'],
    ['negation', 'Why does it work?', "Why doesn't it work?", 'negation'],
    ['without', 'Deploy with downtime', 'Deploy without downtime', 'negation'],
    ['languages', 'Sort a list in Python', 'Sort a list in Rust', 'tech'],
    ['make vs cmake', 'Define a target with make', 'Define a target with cmake', 'tech'],
    ['C++ vs C#', 'Hello world in C++', 'Hello world in C#', 'symbols'],
    ['operators in plain text', 'Return true if x > y', 'Return true if x < y', 'symbols'],
    ['symbol-only question', 'What does % mean in C++?', 'What does ~ mean in C++?', 'symbols'],
    ['operator pairs', 'What is the difference between = and == in Python?', 'What is the difference between () and [] in Python?', 'symbols'],
    ['operator position', 'Is i++ faster than ++i?', 'Is ++i faster than i++?', 'symbols'],
    ['type name case', 'Convert a String to an int', 'Convert a string to an int', 'case'],
    ['swapped case', 'Compare List and list', 'Compare list and List', 'case'],
    ['shouted word', 'How do I sort a list?', 'How do I SORT a list?', 'case'],
    ['proper names', 'Who maintains Jinja?', 'Who maintains Mako?', 'names'],
    ['acronyms', 'What does the GET endpoint return?', 'What does the POST endpoint return?', 'names'],
    ['question words', 'Why does the build fail?', 'When does the build fail?', 'question'],
    ['antonyms', 'Enable logging', 'Disable logging', 'contrast'],
    ['order', 'Convert a string to an int', 'Convert an int to a string', 'order'],
    ['tense (wording)', 'Who is the author?', 'Who was the author?', 'wording'],
    ['sentence case, punctuation, whitespace', 'How do I sort a list?', '  how do i sort a list ?! ', ''],
    ['trailing punctuation after an operator', 'Is x++ atomic?', 'Is x++ atomic', ''],
    ['hyphens and apostrophes in words', "Why doesn't a built-in type work?", "why doesn't a built-in type work", ''],
    ['product names in any case', 'Sort a list in Python', 'sort a list in python', ''],
    ['synonyms', 'What is the price?', 'What is the cost?', ''],
    ['plurals', 'List the files', 'List the file', ''],
    ['fillers', 'Please explain closures', 'Explain closures, thanks', ''],
    ['capitalised first word', 'HOW do I rename a branch?', 'How do I rename a branch?', ''],
    ['product spellings', 'Explain closures in JavaScript', 'explain closures in javascript', ''],
  ];
  for (const [label, a, b, expected] of cases) {
    it(`${label}: ${expected || 'passes'}`, () => {
      assert.equal(gate(a, b) ?? '', expected);
      assert.equal(gate(b, a) ?? '', expected, 'gates are symmetric');
    });
  }

  it('only requires the same wording when asked (for embedders that ignore function words)', () => {
    assert.equal(gate('Who is the author?', 'Who was the author?', false), undefined);
  });
});

describe('lexical embedder', () => {
  const embedder = createLexicalEmbedder();
  it('folds WordNet synonyms and plurals: "Price?" is "Cost?"', () => {
    assert.equal(foldSynonym('price'), 'cost');
    assert.equal(foldSynonym('prices'), 'cost');
    assert.equal(foldSynonym('java'), 'java', 'tech names never fold (java is not coffee here)');
    assert.ok(dot(embedder.embedSync('Price?'), embedder.embedSync('Cost?')) > 0.999);
    assert.deepEqual(contentTerms('What are the prices?'), contentTerms('what is the cost'));
  });

  it('weighs rare words above common ones and keeps vectors unit length', () => {
    assert.ok(wordWeight('kubernetes') > wordWeight('way'));
    const vector = embedder.embedSync('How do I configure the webpack dev server proxy?');
    assert.equal(vector.length, embedder.dimensions);
    assert.ok(Math.abs(dot(vector, vector) - 1) < 1e-5);
    assert.ok(dot(embedder.embedSync('sort a list in python'), embedder.embedSync('sort a list in rust')) < embedder.defaultThreshold);
  });

  it('folds plurals only, not derivations', () => {
    assert.deepEqual(['files', 'queries', 'classes', 'status', 'animals'].map(pluralStem), ['file', 'query', 'classe', 'status', 'animal']);
  });
});
