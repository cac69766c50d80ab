// Each safety gate on its own, and the lexical embedder's folding (synonyms, case, punctuation).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dot } from '../../../src/core/embed/embedder';
import { contentTerms, createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { wordWeight } from '../../../src/core/embed/rarity';
import { foldSynonym, foldSynonymInflected } from '../../../src/core/embed/synonyms';
import { checkGates, exactParts, gateSignature } from '../../../src/core/semantic/gates';
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
    ['a negating prefix', 'Is this code safe?', 'Is this code unsafe?', 'negation'],
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
    ['order of repeated words', 'What is 2 to the power of 3 to the power of 2?', 'What is 2 to the power of 2 to the power of 3?', 'order'],
    ['spelled numbers past twelve', 'Give me fifteen ideas', 'Give me sixteen ideas', 'numbers'],
    ['spelled tens and ordinals', 'Count to thirty', 'Count to forty', 'numbers'],
    ['tense (wording)', 'Who is the author?', 'Who was the author?', 'wording'],
    ['sentence case, punctuation, whitespace', 'How do I sort a list?', '  how do i sort a list ?! ', ''],
    ['trailing punctuation after an operator', 'Is x++ atomic?', 'Is x++ atomic', ''],
    ['hyphens and apostrophes in words', "Why doesn't a built-in type work?", "why doesn't a built-in type work", ''],
    ['product names in any case', 'Sort a list in Python', 'sort a list in python', ''],
    ['synonyms', 'How do I purchase a license?', 'How do I buy a license?', ''],
    ['spellings, inflected alike', 'Which colours does the theme use?', 'Which colors does the theme use?', ''],
    ['no cost/price group', 'What is a cost function?', 'What is a price function?', 'wording'],
    ['plurals (wording)', 'List the files', 'List the file', 'wording'],
    ['possessives (wording)', "What does the user's role allow?", 'What does the user role allow?', 'wording'],
    ['politeness at either end', 'Please explain closures', 'Explain closures, thanks', ''],
    ['a greeting that opens the text', 'Hi, how do I rename a branch?', 'How do I rename a branch?', ''],
    ['a greeting before a single word is the phrase', 'Hello, world', 'world', 'wording'],
    ['a greeting before two words', 'Hey, fix tests', 'fix tests', ''],
    ['a closing word that is the object', "What's another word for thanks?", "What's another word for please?", 'wording'],
    ['a closing word after a verb of saying', 'How do you say thank you', 'How do you say please', 'wording'],
    ['politeness at the end without a comma', 'Explain recursion please', 'Explain recursion', ''],
    ['greeting words inside the text', 'How do I say hi in French?', 'How do I say please in French?', 'wording'],
    ['articles (wording)', 'Why is a null here?', 'Why is null here?', 'wording'],
    ['"the" before the last word', 'What is the time?', 'What is time?', 'wording'],
    ['"the" alone is no word', 'What is the Fibonacci sequence?', 'What is Fibonacci sequence?', ''],
    ['"The" in a name is a name', 'What is The Matrix about?', 'What is Matrix about?', 'names'],
    ['"just" and "really" (wording)', 'Should I just delete the lock file?', 'Should I delete the lock file?', 'wording'],
    ['statement vs question', 'It works!', 'It works?', 'symbols'],
    ['command vs question', 'Delete all merged branches.', 'Delete all merged branches?', 'symbols'],
    ['a question without its mark', 'How do I undo a commit in git', 'How do I undo a commit in git?', ''],
    ['a command without its full stop', 'Delete all merged branches', 'Delete all merged branches.', ''],
    ['indentation outside code', 'What does this print?\nfor i in x:\n    f(i)\nf(done)', 'What does this print?\nfor i in x:\n    f(i)\n    f(done)', 'layout'],
    ['tab vs spaces outside code', 'Why does make fail?\nall:\n\techo done', 'Why does make fail?\nall:\n    echo done', 'layout'],
    ['a line break moved', 'What does this do?\necho a; rm -rf build\nls', 'What does this do?\necho a; rm -rf build ls', 'layout'],
    ['spaces in one line of prose', 'How do I sort a list?', 'How  do I sort   a list?', ''],
    ['fence language tag', 'What is this?\n```c\n7 / 2\n```', 'What is this?\n```python\n7 / 2\n```', 'code'],
    ['blank lines in fenced code', 'Lint this:\n```\nimport os\n\ndef f(): pass\n```', 'Lint this:\n```\nimport os\n\n\ndef f(): pass\n```', 'code'],
    ['trailing spaces in fenced code', 'Render:\n```md\none  \ntwo\n```', 'Render:\n```md\none\ntwo\n```', 'code'],
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

describe('exactParts: words with digits', () => {
  it('takes every word that mixes letters and digits, whichever comes first, and no plain number', () => {
    assert.deepEqual(exactParts('Encode h264 or x265 with 2fa and v2, not item 123 or #4').identifiers.split('\u0000'), ['2fa', 'h264', 'v2', 'x265']);
    assert.equal(exactParts('Turn on 2fa now').identifiers, '2fa', 'a digit before the letters, and no letter before a digit anywhere');
    assert.equal(exactParts('How do I sort item 123 quickly in language 4? (ticket #123)').identifiers, '');
  });
});

describe('exactParts: number words', () => {
  // The tokens are looked at only when a number word may be among them (see NUMBER_WORD_HINT):
  // these are the spellings at the edge of that test.
  it('finds a number word wherever the tokens would', () => {
    const cases: Array<[string, string]> = [
      ['Sort one list', '1'],
      ['sort ONE list', '1'],
      ["it isn't one's fault", '1'],
      ["tenn't a number", '10'], // "n't" is cut off, leaving "ten"
      ['c#one and c++two', '1\u00002'],
      ['under_one_roof', '1'],
      ['someone phones often', ''],
      ['one-two step', ''],
      ['2one', '2'],
      ['\uFF4F\uFF4E\uFF45 apple', '1'], // full-width letters fold to "one"
    ];
    for (const [text, numbers] of cases) assert.equal(exactParts(text).numbers, numbers, text);
  });
});

describe('lexical embedder', () => {
  const embedder = createLexicalEmbedder();
  it('folds reviewed synonyms and plurals: "Purchase?" is "Buy?"', () => {
    assert.equal(foldSynonym('purchase'), 'buy');
    assert.equal(foldSynonym('purchases'), 'buy');
    assert.equal(foldSynonym('price'), 'price', 'cost/price is no group: "cost function" is not "price function"');
    assert.equal(foldSynonym('java'), 'java', 'tech names never fold (java is not coffee here)');
    assert.ok(dot(embedder.embedSync('Purchase?'), embedder.embedSync('Buy?')) > 0.999);
    assert.deepEqual(contentTerms('What are the purchases?'), contentTerms('what is the buy'));
  });

  it('weighs rare words above common ones and keeps vectors unit length', () => {
    assert.ok(wordWeight('kubernetes') > wordWeight('way'));
    const vector = embedder.embedSync('How do I configure the webpack dev server proxy?');
    assert.equal(vector.length, embedder.dimensions);
    assert.ok(Math.abs(dot(vector, vector) - 1) < 1e-5);
    assert.ok(dot(embedder.embedSync('sort a list in python'), embedder.embedSync('sort a list in rust')) < embedder.defaultThreshold);
  });

  it('takes words that name members of every object ("constructor", "valueOf") as words', () => {
    for (const word of ['constructor', 'constructors', 'valueof', 'hasownproperty', 'tostring']) assert.equal(foldSynonym(word), word);
    const signature = gateSignature('What does a constructor do in Java?'); // threw: the synonym was a function
    assert.equal(signature.numbers, '', 'no number in the question');
    assert.equal(gate('What does a constructor do in Java?', 'what does a constructor do in Java'), undefined);
    assert.equal(embedder.embedSync('Why are constructors not inherited?').length, embedder.dimensions);
  });

  it('the wording gate folds spellings, never plurals', () => {
    assert.deepEqual(['colour', 'colours', 'colored', 'purchases', 'files'].map((word) => foldSynonymInflected(word)), ['color', 'color+s', 'color+ed', 'buy+s', 'files']);
  });
});
