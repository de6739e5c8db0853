/**
 * The dashboard: one static page, served as it is (no build step, no CDN). It draws with uPlot,
 * whose files the server serves from the installed `uplot` package (/assets/...), reads
 * /api/state once and then follows /events (server-sent events). Modelled on Spark UI's
 * Structured Streaming tab: per query, input and processing rates, batch duration by phase,
 * rows per batch and the Delta version over the last batches, the latest progress JSON, recent
 * warnings and errors, and the table's summary.
 *
 * The chart data is also kept in `window.__tributary` ({ updates, state, charts }) so a browser
 * test can compare what is drawn with the progress JSON.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tributary</title>
<link rel="stylesheet" href="assets/uPlot.min.css">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f5f6f8; }
  header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  header .live { font-size: 12px; opacity: .8; }
  main { padding: 12px 20px; }
  section.query { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
  section.query h2 { font-size: 16px; margin: 0 0 4px; }
  .meta { color: #556; font-size: 13px; margin-bottom: 8px; }
  .summary { display: flex; gap: 24px; flex-wrap: wrap; margin: 8px 0; }
  .summary div b { display: block; font-size: 18px; }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 12px; }
  .chart { border: 1px solid #eef0f4; border-radius: 4px; padding: 4px; }
  details pre { max-height: 360px; overflow: auto; background: #f7f7f9; padding: 8px; font-size: 12px; }
  ul.notices { list-style: none; padding: 0; margin: 0; font-size: 13px; }
  ul.notices li { padding: 3px 6px; border-left: 3px solid #e0a800; margin: 2px 0; background: #fffbea; word-break: break-word; }
  ul.notices li.error { border-color: #c0392b; background: #fdecea; }
  .empty { color: #889; }
</style>
</head>
<body>
<header><h1>Tributary</h1><span class="live" id="mode"></span></header>
<main id="queries"><p class="empty">Loading…</p></main>
<section style="padding: 0 20px 20px"><h3>Recent warnings and errors</h3><ul class="notices" id="notices"></ul></section>
<script src="assets/uPlot.iife.min.js"></script>
<script>
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var WINDOW = Math.max(1, Number(params.get('batches')) || 100);
  var PHASES = ['latestOffset', 'walCommit', 'getBatch', 'addBatch', 'commitOffsets'];
  var COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#17becf'];
  var T = (window.__tributary = { updates: 0, state: null, charts: {} });
  var views = {};

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function bytes(n) {
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
  }
  /** The four charts' data, from the newest WINDOW progress entries (uPlot's column layout). */
  function chartData(progress) {
    var p = progress.slice(-WINDOW);
    var x = p.map(function (e) { return e.batchId; });
    var col = function (f) { return p.map(f); };
    return {
      rates: [x, col(function (e) { return e.inputRowsPerSecond; }), col(function (e) { return e.processedRowsPerSecond; })],
      duration: [x].concat(PHASES.map(function (ph) { return col(function (e) { return e.durationMs[ph] || 0; }); }), [col(function (e) { return e.durationMs.triggerExecution != null ? e.durationMs.triggerExecution : e.batchDuration; })]),
      rows: [x, col(function (e) { return e.numInputRows; })],
      version: [x, col(function (e) { return e.deltaVersion; })]
    };
  }
  function plot(target, title, labels, data) {
    var width = Math.max(360, target.clientWidth - 10);
    var series = [{ label: 'batch' }].concat(labels.map(function (l, i) { return { label: l, stroke: COLORS[i % COLORS.length], width: 1.5, points: { show: data[0].length < 60 } }; }));
    return new uPlot({ title: title, width: width, height: 220, scales: { x: { time: false } }, series: series, axes: [{ label: 'batch id' }, {}] }, data, target);
  }
  function render(q) {
    var v = views[q.key];
    if (!v) {
      var s = el('section', { class: 'query', 'data-query': q.key });
      var h = el('h2', {}, q.name || q.id);
      var meta = el('div', { class: 'meta' });
      var summary = el('div', { class: 'summary' });
      var charts = el('div', { class: 'charts' });
      var boxes = {};
      ['rates', 'duration', 'rows', 'version'].forEach(function (k) { boxes[k] = el('div', { class: 'chart', 'data-chart': k }); charts.appendChild(boxes[k]); });
      var details = el('details', {});
      details.appendChild(el('summary', {}, 'Latest progress (StreamingQueryProgress JSON)'));
      var pre = el('pre', { class: 'progress-json' });
      details.appendChild(pre);
      s.append(h, meta, summary, charts, details);
      var root = document.getElementById('queries');
      if (root.querySelector('.empty')) root.textContent = '';
      root.appendChild(s);
      v = views[q.key] = { q: q, meta: meta, summary: summary, boxes: boxes, pre: pre, plots: null };
    }
    v.q = q;
    var last = q.progress[q.progress.length - 1];
    v.meta.textContent = 'id ' + q.id + (q.runId ? ' · run ' + q.runId : '') + ' · ' + q.status;
    v.summary.textContent = '';
    var t = q.table;
    var cells = [['batches shown', String(Math.min(WINDOW, q.progress.length))], ['last batch', last ? String(last.batchId) : '–']];
    if (t) cells = cells.concat([['table version', String(t.version)], ['files', String(t.numFiles)], ['size', bytes(t.sizeInBytes)], ['last checkpoint', t.lastCheckpointVersion == null ? 'none' : 'version ' + t.lastCheckpointVersion]]);
    cells.forEach(function (c) { var d = el('div', {}); d.append(el('b', {}, c[1]), el('span', {}, c[0])); v.summary.appendChild(d); });
    if (t) v.summary.setAttribute('data-table', JSON.stringify(t));
    v.pre.textContent = last ? JSON.stringify(last, null, 2) : 'no batch yet';
    var data = chartData(q.progress);
    T.charts[q.key] = data;
    if (!v.plots) {
      v.plots = {
        rates: plot(v.boxes.rates, 'Input and processing rate (rows/s)', ['input rows/s', 'process rows/s'], data.rates),
        duration: plot(v.boxes.duration, 'Batch duration by phase (ms)', PHASES.concat(['total']), data.duration),
        rows: plot(v.boxes.rows, 'Rows per batch', ['input rows'], data.rows),
        version: plot(v.boxes.version, 'Delta table version', ['version'], data.version)
      };
    } else {
      for (var k in v.plots) v.plots[k].setData(data[k]);
    }
  }
  function notices(list) {
    var ul = document.getElementById('notices');
    ul.textContent = '';
    if (!list.length) ul.appendChild(el('li', { class: 'empty' }, 'none'));
    list.slice().reverse().forEach(function (n) {
      ul.appendChild(el('li', { class: n.level }, new Date(n.at).toISOString() + (n.query ? ' [' + n.query + ']' : '') + ' ' + n.level + ': ' + n.message));
    });
  }
  function apply(state) {
    T.state = state;
    document.getElementById('mode').textContent = state.mode === 'live' ? 'live (server-sent events)' : 'from the checkpoint';
    if (!state.queries.length) document.getElementById('queries').innerHTML = '<p class="empty">No query yet.</p>';
    state.queries.forEach(render);
    notices(state.notices);
  }
  fetch('api/state').then(function (r) { return r.json(); }).then(function (state) {
    apply(state);
    var es = new EventSource('events');
    es.addEventListener('progress', function (m) {
      var u = JSON.parse(m.data);
      var q = T.state.queries.find(function (x) { return x.key === u.key; });
      if (!q) { q = { key: u.key, name: u.progress.name, id: u.progress.id, runId: u.progress.runId, active: true, status: u.status, progress: [], table: null }; T.state.queries.push(q); }
      q.progress.push(u.progress);
      if (q.progress.length > WINDOW) q.progress.splice(0, q.progress.length - WINDOW);
      q.table = u.table; q.status = u.status; q.runId = u.progress.runId; q.active = true;
      render(q);
      T.updates++;
    });
    es.addEventListener('query', function (m) {
      var u = JSON.parse(m.data);
      var i = T.state.queries.findIndex(function (x) { return x.key === u.key; });
      if (i >= 0) { u.progress = T.state.queries[i].progress; T.state.queries[i] = u; } else T.state.queries.push(u);
      render(u);
    });
    es.addEventListener('notice', function (m) { T.state.notices.push(JSON.parse(m.data)); T.state.notices = T.state.notices.slice(-50); notices(T.state.notices); });
    es.addEventListener('state', function (m) { apply(JSON.parse(m.data)); T.updates++; });
  });
})();
</script>
</body>
</html>
`;
