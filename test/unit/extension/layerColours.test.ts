// The layer colours of the savings charts and tables meet WCAG AA (4.5:1 text, so 3:1 graphics
// too) against the editor background of Dark Modern, Light Modern, High Contrast and High Contrast
// Light; and the old choice, Dark Modern's 33%-alpha charts-orange, is shown to fail.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LEDGER_LAYERS } from '../../../src/shared/format';
import { contrastRatio, LAYER_COLOURS, THEME_BACKGROUNDS, themeKindOf, type ThemeKind } from '../../../src/shared/layerColours';

/** Composites a colour with alpha over a background, as the browser paints it. */
function over(hex: string, alpha: number, background: string): string {
  const channel = (colour: string, i: number): number => parseInt(colour.slice(1 + 2 * i, 3 + 2 * i), 16);
  return `#${[0, 1, 2].map((i) => Math.round(alpha * channel(hex, i) + (1 - alpha) * channel(background, i)).toString(16).padStart(2, '0')).join('')}`;
}

describe('layer colours', () => {
  for (const kind of Object.keys(LAYER_COLOURS) as ThemeKind[]) {
    it(`reach 4.5:1 against the ${kind} editor background (${THEME_BACKGROUNDS[kind]})`, () => {
      for (const layer of LEDGER_LAYERS) {
        const ratio = contrastRatio(LAYER_COLOURS[kind][layer], THEME_BACKGROUNDS[kind]);
        assert.ok(ratio >= 4.5, `${layer} ${LAYER_COLOURS[kind][layer]} on ${THEME_BACKGROUNDS[kind]}: ${ratio.toFixed(2)}:1`);
      }
    });
  }

  it('computes known ratios, and Dark Modern’s translucent charts-orange fails', () => {
    assert.equal(contrastRatio('#000000', '#ffffff').toFixed(1), '21.0');
    assert.equal(contrastRatio('#777777', '#ffffff').toFixed(2), '4.48');
    const darkModernOrange = over('#d18616', 0x55 / 255, THEME_BACKGROUNDS.dark);
    assert.ok(contrastRatio(darkModernOrange, THEME_BACKGROUNDS.dark) < 3);
  });

  it('reads the theme kind from the webview body classes', () => {
    assert.equal(themeKindOf('vscode-body vscode-high-contrast vscode-high-contrast-light'), 'high-contrast-light');
    assert.equal(themeKindOf('vscode-body vscode-high-contrast'), 'high-contrast');
    assert.equal(themeKindOf('vscode-light'), 'light');
    assert.equal(themeKindOf('vscode-dark'), 'dark');
  });
});
