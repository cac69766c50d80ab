/**
 * The VS Code theme variables the savings panel's stylesheet reads (webview/styles.css, charts.ts),
 * defined for a plain browser tab: light by default, dark when the system prefers it. Colours follow
 * VS Code's Light+ and Dark+ themes so the page looks like the panel.
 */

const LIGHT = {
  '--vscode-foreground': '#3b3b3b',
  '--vscode-descriptionForeground': '#717171',
  '--vscode-disabledForeground': '#8b8b8b',
  '--vscode-errorForeground': '#c72e0f',
  '--vscode-editor-background': '#ffffff',
  '--vscode-editorWidget-background': '#f8f8f8',
  '--vscode-sideBar-background': '#f8f8f8',
  '--vscode-panel-border': '#e5e5e5',
  '--vscode-widget-border': '#e5e5e5',
  '--vscode-focusBorder': '#005fb8',
  '--vscode-badge-background': '#cccccc',
  '--vscode-badge-foreground': '#3b3b3b',
  '--vscode-button-background': '#005fb8',
  '--vscode-button-foreground': '#ffffff',
  '--vscode-button-border': 'transparent',
  '--vscode-button-hoverBackground': '#0258a8',
  '--vscode-button-secondaryBackground': '#e5e5e5',
  '--vscode-button-secondaryForeground': '#3b3b3b',
  '--vscode-button-secondaryHoverBackground': '#cccccc',
  '--vscode-checkbox-background': '#f8f8f8',
  '--vscode-textPreformat-foreground': '#3b3b3b',
  '--vscode-testing-iconPassed': '#388a34',
  '--vscode-charts-green': '#388a34',
  '--vscode-charts-blue': '#1a85ff',
  '--vscode-charts-purple': '#652d90',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-red': '#e51400',
};

const DARK: typeof LIGHT = {
  '--vscode-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-disabledForeground': '#8b8b8b',
  '--vscode-errorForeground': '#f85149',
  '--vscode-editor-background': '#1f1f1f',
  '--vscode-editorWidget-background': '#202020',
  '--vscode-sideBar-background': '#181818',
  '--vscode-panel-border': '#2b2b2b',
  '--vscode-widget-border': '#313131',
  '--vscode-focusBorder': '#0078d4',
  '--vscode-badge-background': '#616161',
  '--vscode-badge-foreground': '#f8f8f8',
  '--vscode-button-background': '#0078d4',
  '--vscode-button-foreground': '#ffffff',
  '--vscode-button-border': 'transparent',
  '--vscode-button-hoverBackground': '#026ec1',
  '--vscode-button-secondaryBackground': '#313131',
  '--vscode-button-secondaryForeground': '#cccccc',
  '--vscode-button-secondaryHoverBackground': '#3c3c3c',
  '--vscode-checkbox-background': '#313131',
  '--vscode-textPreformat-foreground': '#d0d0d0',
  '--vscode-testing-iconPassed': '#73c991',
  '--vscode-charts-green': '#89d185',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-purple': '#b180d7',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-red': '#f14c4c',
};

const FONTS = {
  '--vscode-font-family': 'system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': 'ui-monospace, "SF Mono", Consolas, "DejaVu Sans Mono", monospace',
};

const declarations = (variables: Record<string, string>): string =>
  Object.entries(variables)
    .map(([name, value]) => `  ${name}: ${value};`)
    .join('\n');

/** Served as /isartor/theme.css before the panel's own stylesheet; only the browser page loads it. */
export const BROWSER_THEME_CSS = `:root {
  color-scheme: light dark;
${declarations({ ...FONTS, ...LIGHT })}
}
/* Enable/Disable and Show Log belong to the VS Code extension; a terminal's proxy has neither. */
#header .actions {
  display: none;
}
@media (prefers-color-scheme: dark) {
  :root {
${declarations(DARK)}
  }
}
`;
