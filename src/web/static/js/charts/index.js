// The charts chunk: plain SVG, loaded only when a view first draws a chart.
export { LAYER_COLORS, STATE_COLORS } from './palette.js';
export { dayBars, sparkline } from './small.js';
export { bucketSegments, bucketState, calendarStrip, heatMap, stateStrip } from './strips.js';
export { dm, hm, widthOf } from './svg.js';
export { timeChart } from './time-chart.js';
