// Okabe–Ito hues, darkened where needed so every mark has ≥ 4.5:1 contrast on the white card
// (ratios in docs/web.md): told apart by hue for colour-blind readers and by lightness in sunlight.
export const LAYER_COLORS = {
  lan: '#0072b2',
  isp: '#b35000',
  dns: '#00795a',
  internet: '#96577a',
  regency: '#8f6300',
};
export const STATE_COLORS = {
  up: '#00795a',
  online: '#00795a',
  degraded: '#8f6300',
  down: '#b35000',
  offline: '#b35000',
  unknown: '#6b7380',
};
/** Heat map / calendar steps, light to dark blue; empty cells stay white with an outline. */
export const HEAT = ['#3a7a9e', '#0072b2', '#005282', '#00304d'];
export const INK = '#1d2330';
export const GRID = '#dde1e7';
export const MUTED = '#5d6675';
