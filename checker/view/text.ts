// Text on an HTML page, shared by every view (checker.html, report.html, the suite's page, serve):
// escaping, clipping, digit grouping and the page around a view's body. No I/O; it knows nothing of
// histories.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML and SVG content and for attribute values (quoted with either quote). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** At most `max` characters (`max` >= 2): longer text is cut and ends with an ellipsis. */
export function clip(text: string, max: number): string {
  const s = String(text);
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`;
}

/** An integer with thousands separators, e.g. `200,000`. */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A self-contained page: the head with `title` and the inline `style`, the body's parts, then the inline `script`. */
export function htmlDocument(title: string, style: string, body: readonly string[], script: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${style}</style></head><body>`,
    ...body,
    `<script>${script}</script>`,
    '</body></html>',
  ].join('\n');
}
