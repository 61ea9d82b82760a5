// eddy dashboard: polls /_eddy/report?format=json and /_eddy/metrics/series every second.
// Plain JS, no libraries, nothing fetched from elsewhere.
(function () {
  'use strict';
  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
  const WINDOW_S = 300;
  const LIVE_S = 5;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const $ = (sel) => document.querySelector(sel);
  let currency = 'USD';
  let busy = false;

  function money(v) {
    if (typeof v !== 'number') return '-';
    const digits = Math.abs(v) >= 100 ? 2 : Math.abs(v) >= 1 ? 4 : 6;
    return (currency === 'USD' ? '$' : currency + ' ') + v.toFixed(digits);
  }
  function int(v) { return typeof v === 'number' ? v.toLocaleString('en-US') : '-'; }
  function dec(v, n) { return typeof v === 'number' ? v.toFixed(n) : '-'; }

  function cell(tr, field, text, cls) {
    const td = document.createElement('td');
    td.dataset.field = field;
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  // Mean of the last LIVE_S seconds of a per-second series.
  function live(series, name, field) {
    const s = series && series.streams && series.streams[name];
    if (!s || !s[field]) return 0;
    const v = s[field].slice(-LIVE_S);
    return v.reduce((a, b) => a + b, 0) / LIVE_S;
  }

  function renderStreams(report, series) {
    const tbody = $('#streams tbody');
    tbody.textContent = '';
    $('#no-streams').hidden = report.streams.length > 0;
    for (const s of report.streams) {
      const tr = document.createElement('tr');
      tr.className = 'stream';
      tr.dataset.stream = s.stream;
      cell(tr, 'stream', s.stream + (s.deleted ? ' (deleted)' : ''));
      cell(tr, 'mode', s.mode);
      cell(tr, 'shards', int(s.shards));
      cell(tr, 'puts_per_second', dec(live(series, s.stream, 'records'), 1));
      cell(tr, 'user_records_per_second', dec(live(series, s.stream, 'user_records'), 1));
      cell(tr, 'put_api_calls', int(s.put_api_calls));
      cell(tr, 'records', int(s.records));
      cell(tr, 'user_records', int(s.user_records));
      cell(tr, 'aggregation_ratio', dec(s.aggregation_ratio, 2));
      cell(tr, 'payload_units', int(s.payload_units));
      cell(tr, 'records_throttled', int(s.records_throttled), s.records_throttled ? 'warn' : '');
      const drops = s.kpl.bad_md5 + s.kpl.unparseable + s.kpl.misrouted;
      const d = cell(tr, 'kcl_drops', int(drops), drops ? 'warn' : '');
      d.title = s.kpl.bad_md5 + ' bad MD5, ' + s.kpl.unparseable + ' unparseable, ' + s.kpl.misrouted + ' outside their shard';
      cell(tr, 'cost_so_far', money(s.cost.so_far.total));
      const m = cell(tr, 'projected_month', money(s.cost.projected_month.total));
      m.title = 'shard-hours ' + money(s.cost.projected_month.shard_hours) + ' + PUT payload units ' +
                money(s.cost.projected_month.put_payload_units);
      cell(tr, 'cost_per_million_user_records', money(s.cost.per_million_user_records));
      tbody.appendChild(tr);
      for (const sh of s.shard_list) {
        const r = document.createElement('tr');
        r.className = 'shard';
        r.dataset.stream = s.stream;
        r.dataset.shard = sh.shard;
        cell(r, 'shard', sh.shard + (sh.open ? '' : ' (closed)'));
        cell(r, 'mode', '');
        cell(r, 'shards', '');
        cell(r, 'puts_per_second', dec(sh.puts_per_second, 2));
        cell(r, 'user_records_per_second', '');
        cell(r, 'put_api_calls', '');
        cell(r, 'records', int(sh.records));
        cell(r, 'user_records', int(sh.user_records));
        cell(r, 'aggregation_ratio', dec(sh.aggregation_ratio, 2));
        cell(r, 'payload_units', int(sh.payload_units));
        cell(r, 'records_throttled', '');
        const sd = sh.kpl_bad_md5 + sh.kpl_unparseable + sh.kpl_misrouted;
        cell(r, 'kcl_drops', int(sd), sd ? 'warn' : '');
        cell(r, 'cost_so_far', '');
        cell(r, 'projected_month', '');
        cell(r, 'cost_per_million_user_records', '');
        tbody.appendChild(r);
      }
    }
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function niceCeiling(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function renderChart(series) {
    const chart = $('#chart');
    chart.textContent = '';
    const W = 960, H = 320, L = 60, R = 220, T = 15, B = 35;
    const pw = W - L - R, ph = H - T - B;
    const names = Object.keys(series.streams).sort();
    const n = series.seconds;
    let ymax = 0;
    for (const name of names)
      for (const f of ['records', 'user_records']) for (const v of series.streams[name][f]) ymax = Math.max(ymax, v);
    ymax = niceCeiling(ymax);
    const X = (i) => L + (n > 1 ? i / (n - 1) : 0) * pw;
    const Y = (v) => T + ph - (v / ymax) * ph;
    chart.appendChild(svg('line', { x1: L, y1: T + ph, x2: L + pw, y2: T + ph, stroke: '#999' }));
    chart.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: T + ph, stroke: '#999' }));
    for (let i = 0; i <= 4; i++) {
      const v = (ymax * i) / 4;
      chart.appendChild(svg('line', { x1: L, x2: L + pw, y1: Y(v), y2: Y(v), stroke: '#eee' }));
      chart.appendChild(svg('text', { x: L - 6, y: Y(v) + 4, 'text-anchor': 'end', 'font-size': 11 }, String(+v.toPrecision(3))));
    }
    for (let i = 0; i <= 5; i++) {
      const idx = Math.round(((n - 1) * i) / 5);
      const t = new Date((series.from_s + idx) * 1000).toISOString().substring(11, 19);
      chart.appendChild(svg('text', { x: X(idx), y: T + ph + 18, 'text-anchor': 'middle', 'font-size': 11 }, t));
    }
    let ly = T + 10;
    names.forEach((name, k) => {
      const color = PALETTE[k % PALETTE.length];
      for (const [field, label, dash] of [['user_records', 'user records/s', ''], ['records', 'PUTs/s', '6 4']]) {
        const v = series.streams[name][field];
        const d = v.map((y, i) => (i ? 'L' : 'M') + X(i).toFixed(1) + ',' + Y(y).toFixed(1)).join(' ');
        const attrs = { d: d, fill: 'none', stroke: color, 'stroke-width': 2, class: 'series',
                        'data-stream': name, 'data-series': field === 'records' ? 'puts' : 'user_records',
                        'data-last': v.length ? v[v.length - 1] : 0, 'data-sum': v.reduce((a, b) => a + b, 0) };
        if (dash) attrs['stroke-dasharray'] = dash;
        chart.appendChild(svg('path', attrs));
        const la = { x1: L + pw + 15, x2: L + pw + 45, y1: ly, y2: ly, stroke: color, 'stroke-width': 2 };
        if (dash) la['stroke-dasharray'] = dash;
        chart.appendChild(svg('line', la));
        chart.appendChild(svg('text', { x: L + pw + 50, y: ly + 4, 'font-size': 11, class: 'legend' }, name + ' ' + label));
        ly += 16;
      }
    });
    if (!names.length)
      chart.appendChild(svg('text', { x: L + pw / 2, y: T + ph / 2, 'text-anchor': 'middle', fill: '#888' }, 'no traffic yet'));
  }

  function renderStreamChoice(report) {
    const sel = $('#tail-stream');
    const names = report.streams.map((s) => s.stream);
    const current = sel.value;
    const have = Array.from(sel.options).map((o) => o.value);
    if (have.join('\n') !== names.join('\n')) {
      sel.textContent = '';
      for (const n of names) sel.appendChild(new Option(n, n));
      if (names.includes(current)) sel.value = current;
    }
    return sel.value;
  }

  function renderTail(data) {
    const tbody = $('#tail tbody');
    tbody.textContent = '';
    for (const r of data.records) {
      const tr = document.createElement('tr');
      tr.className = 'record';
      cell(tr, 'time', new Date(r.arrival_ms).toISOString().substring(11, 23));
      cell(tr, 'shard', r.shard);
      const pk = cell(tr, 'partition_key', r.partition_key);
      if (r.kpl_outer_key) {
        const t = document.createElement('span');
        t.className = 'tag';
        t.textContent = 'KPL outer key, EHK ' + r.explicit_hash_key;
        pk.append(' ', t);
      }
      const k = cell(tr, 'kpl', '');
      const tag = document.createElement('span');
      tag.className = 'tag' + (r.kpl === 'ok' || r.kpl === 'none' ? '' : ' bad') + (r.misrouted ? ' bad' : '');
      tag.textContent = r.kpl === 'none' ? 'plain' : r.kpl === 'ok' ? (r.misrouted ? 'aggregate, outside shard' : 'aggregate') : r.kpl;
      k.appendChild(tag);
      cell(tr, 'size', int(r.size));
      const u = cell(tr, 'user_records', '', 'users');
      r.user_records.forEach((x, i) => {
        if (i) u.appendChild(document.createElement('br'));
        const span = document.createElement('span');
        span.className = 'user-record';
        span.dataset.partitionKey = x.partition_key;
        span.textContent = x.partition_key + ' · ' + x.size + ' B · ' + x.preview;
        u.appendChild(span);
      });
      if (r.user_record_count > r.user_records.length) {
        u.appendChild(document.createElement('br'));
        u.append('… ' + (r.user_record_count - r.user_records.length) + ' more');
      }
      tbody.appendChild(tr);
    }
  }

  // The admin token, when eddy asks for one (it listens beyond loopback): open the dashboard as
  // /_eddy/?token=TOKEN and its data requests carry it.
  const adminToken = new URLSearchParams(window.location.search).get('token');

  async function getJSON(url) {
    const res = await fetch(url, { cache: 'no-store', headers: adminToken ? { 'X-Eddy-Admin-Token': adminToken } : {} });
    if (!res.ok) throw new Error(url + ' answered ' + res.status);
    return res.json();
  }

  async function tick() {
    if (busy) return;
    busy = true;
    const status = $('#status');
    try {
      const [report, series] = await Promise.all([
        getJSON('/_eddy/report?format=json'),
        getJSON('/_eddy/metrics/series?seconds=' + WINDOW_S),
      ]);
      currency = report.pricing.currency || 'USD';
      $('#pricing').textContent = report.pricing.name;
      $('#total-so-far').textContent = money(report.totals.cost_so_far);
      $('#total-month').textContent = money(report.totals.projected_month);
      renderStreams(report, series);
      renderChart(series);
      const stream = renderStreamChoice(report);
      if (stream) renderTail(await getJSON('/_eddy/metrics/recent?limit=20&stream=' + encodeURIComponent(stream)));
      else renderTail({ records: [] });
      status.textContent = 'updated ' + new Date().toISOString().substring(11, 19) + ' UTC';
      status.classList.remove('error');
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    } catch (e) {
      // Shown on the page, not thrown: eddy may be restarting.
      status.textContent = 'cannot reach eddy: ' + e.message;
      status.classList.add('error');
    } finally {
      busy = false;
    }
  }

  $('#tail-stream').addEventListener('change', tick);
  tick();
  setInterval(tick, 1000);
})();
