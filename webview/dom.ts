/** A small element builder: text always goes in as text nodes, never as HTML, so data cannot inject markup. */

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | boolean | undefined>;

/**
 * Creates an element with attributes and children.
 *
 * @example h('td', { class: 'num' }, formatCount(12)) // <td class="num">12</td>
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replaces all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((child): child is Node | string | number => child !== null && child !== undefined && child !== false).map((child) => (child instanceof Node ? child : String(child))));
}

/** A table with a header row and one row per entry; numeric columns are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly Child[])[], numericFrom = 1, emptyText = 'Nothing yet'): HTMLElement {
  // Each cell names its column (col-N), so narrow views can drop the least needed ones in CSS.
  const cellClass = (index: number): string => `col-${index}${index >= numericFrom ? ' num' : ''}`;
  const head = h('tr', {}, ...headers.map((text, index) => h('th', { class: cellClass(index), scope: 'col' }, text)));
  const body = rows.length
    ? rows.map((cells) => h('tr', {}, ...cells.map((cell, index) => h('td', { class: cellClass(index) }, cell))))
    : [h('tr', {}, h('td', { class: 'empty', colspan: String(headers.length) }, emptyText))];
  return h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, head), h('tbody', {}, ...body)));
}
