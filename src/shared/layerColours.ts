/**
 * The colour of each ledger layer in the savings charts and tables, per kind of editor theme.
 * Fixed values rather than `--vscode-charts-*`: Dark Modern defines its chart colours with alpha
 * (charts-orange is 33% opaque there, about 1.6:1 against the editor), so those fail WCAG AA.
 * Every colour here reaches 4.5:1 against its theme family's editor background (checked in
 * test/unit/extension/layerColours.test.ts), enough for text and for graphics (3:1).
 */
import type { LedgerLayerId } from './format';

/** VS Code's theme kinds, as the webview's body class names them (vscode-dark, vscode-light, …). */
export type ThemeKind = 'dark' | 'light' | 'high-contrast' | 'high-contrast-light';

export const LAYER_COLOURS: Record<ThemeKind, Record<LedgerLayerId, string>> = {
  dark: { l1a: '#89d185', l1b: '#4aa3ff', l2: '#c397e6', l3: '#f0a35a', error: '#ff7b72' },
  light: { l1a: '#1e7b34', l1b: '#0062c4', l2: '#7a3eb1', l3: '#a94f00', error: '#c62828' },
  'high-contrast': { l1a: '#89d185', l1b: '#6cb6ff', l2: '#d2a8ff', l3: '#ffa657', error: '#ff7b72' },
  'high-contrast-light': { l1a: '#0f5c23', l1b: '#004f9e', l2: '#5e2a91', l3: '#8a3f00', error: '#a31515' },
};

/** The editor background of the default theme of each kind (Dark Modern, Light Modern, High Contrast, High Contrast Light). */
export const THEME_BACKGROUNDS: Record<ThemeKind, string> = {
  dark: '#1f1f1f',
  light: '#ffffff',
  'high-contrast': '#000000',
  'high-contrast-light': '#ffffff',
};

/** The theme kind from the webview body's classes ("vscode-high-contrast-light" before "vscode-light"). */
export function themeKindOf(classNames: string): ThemeKind {
  const classes = classNames.split(/\s+/);
  if (classes.includes('vscode-high-contrast-light')) return 'high-contrast-light';
  if (classes.includes('vscode-high-contrast')) return 'high-contrast';
  if (classes.includes('vscode-light')) return 'light';
  return 'dark';
}

/** WCAG 2 contrast ratio of two #rrggbb colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [la, lb] = [relativeLuminance(a), relativeLuminance(b)];
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function relativeLuminance(hex: string): number {
  const value = /^#([0-9a-f]{6})$/i.exec(hex)?.[1];
  if (!value) throw new Error(`not a #rrggbb colour: ${hex}`);
  const channel = (offset: number): number => {
    const c = parseInt(value.slice(offset, offset + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}
