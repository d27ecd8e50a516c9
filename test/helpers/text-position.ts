/** Positions in configuration text, to compare with the `file:line:col` the proxy reports. */

/** `file:line:col` of the first occurrence of `needle` in `text` (1-based, as the proxy reports). */
export function positionOf(file: string, text: string, needle: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  if (i === -1) throw new Error(`${JSON.stringify(needle)} is not in the text`);
  return `${file}:${i + 1}:${lines[i]!.indexOf(needle) + 1}`;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
