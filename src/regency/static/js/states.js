import { label, t } from './i18n.js';

export const STATES = ['down', 'silent', 'offline', 'degraded', 'online', 'unknown'];

/** A state as a coloured badge with its text: colour is never the only signal. */
export function stateText(v) {
  const name = t(`state.${v.state}`);
  if ((v.state === 'down' || v.state === 'degraded') && v.fault_layer)
    return `${name} · ${label('layer', v.fault_layer)}`;
  return name;
}
