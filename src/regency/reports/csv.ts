export type CsvCell = string | number | boolean | null | undefined;

/**
 * RFC 4180 CSV: CRLF line ends, a field holding a comma, quote or line break is quoted with
 * its quotes doubled. A text cell a spreadsheet would run as a formula (=, +, -, @ first) is
 * prefixed with an apostrophe, so a village or service name can never execute anything.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return `${[header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}

function cell(v: CsvCell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
