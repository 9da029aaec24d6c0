// Text on an HTML page, shared by every view (checker.html, report.html, the suite's page, serve):
// escaping, clipping and digit grouping. No I/O; it knows nothing of histories.

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
