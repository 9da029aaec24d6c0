// The report page's furniture: the SVG definitions (gradients, hatching), the inline CSS and the
// cursor script shared by every time chart. Constant text only.

import { GUTTER_PX } from './time-chart.js';

export const SVG_DEFS = `<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
<linearGradient id="info-tail" x1="0" x2="1" y1="0" y2="0"><stop offset="0" stop-color="#f0a030" stop-opacity="0.5"/><stop offset="1" stop-color="#f0a030" stop-opacity="0.05"/></linearGradient>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ececec"/><rect width="3" height="6" fill="#cfcfcf"/></pattern>
</defs></svg>`;

export const STYLE = `
:root { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; }
body { margin: 0 0 40px; font-size: 14px; background: #fafafa; }
body > *:not(header) { margin-left: 24px; margin-right: 24px; }
header.top { display: flex; align-items: center; gap: 22px; padding: 14px 24px; color: #fff; }
header.top.ok { background: #1a7f37; } header.top.bad { background: #c62828; } header.top.unknown { background: #a86400; }
header.top .verdict { font-size: 34px; font-weight: 800; letter-spacing: 0.5px; }
header.top h1 { margin: 0; font-size: 20px; font-weight: 600; }
header.top .sub { opacity: 0.92; margin-top: 2px; }
.unsafe { background: #fff; color: #c62828; padding: 0 6px; border-radius: 3px; font-weight: 700; }
h2 { font-size: 16px; margin: 18px 0 6px; }
h2 .dim { font-weight: 400; font-size: 13px; margin-left: 6px; }
.dim { color: #777; }
.note { background: #fff8e1; border-left: 3px solid #f0a030; padding: 6px 10px; }
ul.summary { margin: 12px 24px 4px; padding-left: 18px; font-size: 15px; }
.checks table { border-collapse: collapse; margin: 8px 0 0; }
.checks th { text-align: left; padding: 2px 12px 2px 0; font-weight: 600; }
.checks td { padding: 2px 12px 2px 0; }
.checks p { margin: 4px 0 12px; }
.verdict-word { font-weight: 700; } .verdict-word.ok { color: #1a7f37; } .verdict-word.bad { color: #c62828; } .verdict-word.unknown { color: #a86400; }
.problems { background: #fdecea; border-left: 3px solid #c62828; padding: 2px 12px 6px; margin-top: 10px; }
.problems h2 { margin-top: 8px; color: #c62828; }
.columns { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.box { background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 2px 16px 12px; flex: 1 1 520px; min-width: 420px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 6px 0; }
dt { color: #777; } dd { margin: 0; overflow-wrap: anywhere; }
.repeat { margin-top: 8px; color: #555; }
.repeat code { display: block; margin-top: 4px; padding: 6px 8px; background: #f2f2f2; border-radius: 4px; font: 12.5px ui-monospace, Menlo, monospace; overflow-wrap: anywhere; }
code { font: 12.5px ui-monospace, Menlo, monospace; }
table.stats { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.stats th, table.stats td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eee; }
table.stats th:first-child { text-align: left; }
table.stats tr.total th, table.stats tr.total td { border-top: 2px solid #ccc; font-weight: 600; }
table.stats td.ok { color: #1f5fa8; } table.stats td.fail { color: #666; } table.stats td.info { color: #a86400; }
.avail { margin: 4px 0; }
.charts { background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 2px 16px 12px; margin-top: 16px; }
.chart-wrap { overflow-x: auto; }
svg.chart { display: block; font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; }
svg.chart .plot { fill: #fff; stroke: #ddd; }
svg.chart .zebra { fill: #f6f7f9; }
svg .ok { fill: #7ea9e1; stroke: #3f73b8; stroke-width: 0.6; }
svg .fail { fill: url(#hatch); stroke: #999; stroke-width: 0.6; }
svg .info { fill: #f0a030; stroke: #b86e00; stroke-width: 0.6; }
svg.throughput .ok { fill: #7ea9e1; stroke: none; } svg.throughput .fail { fill: #b5b5b5; stroke: none; } svg.throughput .info { fill: #f0a030; stroke: none; }
svg .barlabel { font: 9.5px ui-monospace, Menlo, monospace; fill: #123; stroke: none; pointer-events: none; }
svg .barlabel.fail { fill: #555; } svg .barlabel.info { fill: #4a3000; }
svg .rowlabel { font: 11px ui-monospace, Menlo, monospace; fill: #444; }
svg .flabel { font-size: 10.5px; font-weight: 600; }
svg .tick { font-size: 11px; fill: #555; }
svg .ytitle { font-size: 11px; fill: #777; }
svg .axis { stroke: #999; }
svg .grid { stroke: #e6e6e6; } svg .grid.minor { stroke: #f3f3f3; }
svg .mark { stroke: #c62828; stroke-width: 1.5; stroke-dasharray: 3 2; }
svg .cursor { stroke: #333; stroke-width: 0.8; stroke-dasharray: 2 2; pointer-events: none; }
svg g > g:hover rect, svg circle:hover { filter: brightness(0.85); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: center; color: #555; font-size: 12px; margin: 4px 0 8px ${GUTTER_PX}px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
table.faults { border-collapse: collapse; font-size: 13px; }
table.faults th, table.faults td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #eee; vertical-align: top; }
table.faults td:nth-child(2), table.faults td:nth-child(3), table.faults td:nth-child(4) { white-space: nowrap; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
details { margin: 2px 0; } summary { cursor: pointer; color: #777; font-size: 12px; }
details code { display: block; white-space: pre-wrap; overflow-wrap: anywhere; color: #444; }
iframe.checker { width: 100%; height: 80vh; min-height: 480px; border: 1px solid #ddd; border-radius: 6px; background: #fff; }
ul.files li { margin: 3px 0; }
a { color: #1f5fa8; }
#cursor-readout { position: fixed; right: 12px; bottom: 12px; margin: 0; background: #333; color: #fff; font-size: 12px; padding: 3px 8px; border-radius: 3px; pointer-events: none; }
`;

/** A shared cursor: hovering any time chart draws the same instant on all of them and shows it. */
export const SCRIPT = `
(function () {
  var charts = document.querySelectorAll('svg.chart');
  var readout = document.getElementById('cursor-readout');
  function place(t) {
    for (var i = 0; i < charts.length; i++) {
      var c = charts[i], line = c.querySelector('line.cursor');
      var x = t === null ? -10 : +c.dataset.x0 + ((t - c.dataset.t0) / c.dataset.span) * c.dataset.w;
      line.setAttribute('x1', x); line.setAttribute('x2', x);
    }
    readout.hidden = t === null;
    if (t !== null) readout.textContent = 't = ' + t.toFixed(3) + ' s';
  }
  for (var i = 0; i < charts.length; i++) {
    charts[i].addEventListener('mousemove', function (e) {
      var c = e.currentTarget, box = c.getBoundingClientRect();
      var x = (e.clientX - box.left) * (c.viewBox.baseVal.width / box.width);
      var f = (x - c.dataset.x0) / c.dataset.w;
      place(f < 0 || f > 1 ? null : +c.dataset.t0 + f * c.dataset.span);
    });
    charts[i].addEventListener('mouseleave', function () { place(null); });
  }
})();
`;
