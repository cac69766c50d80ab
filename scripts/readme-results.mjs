// Copies the latest benchmark page (bench/results/latest.md) into the README between its markers,
// so the README always shows the figures of the last real `npm run bench`.
import { readFileSync, writeFileSync } from 'node:fs';

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';
const readme = readFileSync('README.md', 'utf8');
const results = readFileSync('bench/results/latest.md', 'utf8')
  .replace(/^# .*\n+/, '') // the page's own title; the README has its section heading
  .replace(/^## /gm, '#### ')
  .trim();
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) {
  console.error(`README.md has no ${START} … ${END} section`);
  process.exit(2);
}
writeFileSync('README.md', `${readme.slice(0, from + START.length)}\n${results}\n${readme.slice(to)}`);
console.log('README.md: benchmark section updated from bench/results/latest.md');
