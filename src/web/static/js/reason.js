import { t } from './i18n.js';

// The devices module states reasons in short English; the page says them in the chosen
// language. Unknown text is shown as it is, so a new reason is never hidden.
const EXACT = {
  'not heard from since start': 'reason.not_heard',
  'gateway started': 'reason.gateway_started',
  'heartbeat ok': 'reason.heartbeat_ok',
  'checks ok': 'reason.checks_ok',
  'paper low': 'reason.paper_low',
  'paper out': 'reason.paper_out',
  'printer error': 'reason.printer_error',
  'printer offline': 'reason.printer_offline',
  'card reader error': 'reason.card_reader_error',
};
const PATTERNS = [
  [/^no heartbeat for (\d+) s$/, 'reason.no_heartbeat', (m) => ({ s: m[1] })],
  [/^no heartbeat since start \((\d+) s\)$/, 'reason.no_heartbeat_start', (m) => ({ s: m[1] })],
  [/^check (.+?) failed(?:: (.*))?$/, 'reason.check_failed', (m) => ({ check: m[1], problem: m[2] ?? '' })],
];

function one(part) {
  if (EXACT[part]) return t(EXACT[part]);
  for (const [re, key, vars] of PATTERNS) {
    const m = re.exec(part);
    if (m) return t(key, vars(m));
  }
  return part;
}

export function reasonText(reason) {
  if (!reason) return reason;
  return reason
    .split(', ')
    .map((p) => one(p.trim()))
    .join(', ');
}
