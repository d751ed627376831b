/* resource-manager dashboard: polls /api/v1/status and /api/v1/history, draws
 * each service's use against the thresholds with Chart.js, and sends the
 * approve/reject/pause/resume commands. Data is only ever inserted as text. */
'use strict';

(function () {
  const REFRESH_MS = 10000;
  const TOKEN_KEY = 'resource-manager.token';
  const charts = new Map(); /* service name -> Chart */
  let timer = null;
  let busy = false;

  const $ = (sel, root) => (root || document).querySelector(sel);

  function headers(extra) {
    const h = Object.assign({ Accept: 'application/json' }, extra || {});
    const token = localStorage.getItem(TOKEN_KEY);
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }

  async function getJSON(path) {
    const r = await fetch(path, { headers: headers(), cache: 'no-store' });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || r.status + ' ' + r.statusText);
    return body;
  }

  function showMessage(text, isError) {
    const m = $('#message');
    m.textContent = text;
    m.className = isError ? 'error' : '';
    m.hidden = !text;
  }

  /* ---- formatting ---- */

  function pct(x) {
    return x === null || x === undefined ? '—' : (x * 100).toFixed(1) + ' %';
  }
  function cores(x) {
    if (x === null || x === undefined) return '—';
    return x === 0 ? 'no limit' : (+x.toFixed(3)) + ' cores';
  }
  function bytes(x) {
    if (x === null || x === undefined) return '—';
    if (x === 0) return 'no limit';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return (+x.toFixed(x < 10 && i > 0 ? 2 : 0)) + ' ' + units[i];
  }
  function duration(s) {
    if (s === null || s === undefined) return '—';
    s = Math.round(s);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }
  function time(t) {
    if (!t) return '—';
    const d = new Date(t * 1000);
    return d.toLocaleString();
  }
  function clock(t) {
    const d = new Date(t * 1000);
    return d.getHours().toString().padStart(2, '0') + ':' +
      d.getMinutes().toString().padStart(2, '0');
  }
  function limits(l) {
    return l ? cores(l.cpu) + ', ' + bytes(l.memory) : '—';
  }
  function change(d) {
    const parts = [];
    if (d.change_cpu) parts.push('CPU ' + cores(d.cpu_from) + ' → ' + cores(d.cpu_to));
    if (d.change_memory) parts.push('memory ' + bytes(d.memory_from) + ' → ' + bytes(d.memory_to));
    return parts.join('; ') || 'no change';
  }
  function reasonText(r) {
    return (r || '').replace(/_/g, ' ');
  }

  /* ---- rendering ---- */

  function renderHeader(st) {
    const h = $('#health');
    h.textContent = st.health;
    h.className = 'badge ' + st.health;
    const age = st.last_check ? duration(st.served_at - st.last_check) + ' ago' : 'no check yet';
    $('#summary').textContent = 'last check ' + age + ' · ' + st.checks + ' checks · source ' +
      (st.source || '—');
    const a = st.automation;
    const auto = $('#automation');
    auto.textContent = !a.enabled ? 'recommend only' : a.paused ? 'paused' :
      a.dry_run ? 'dry run' : a.manual_approval ? 'manual approval' : 'automatic';
    auto.className = 'badge' + (a.paused ? ' paused' : '');
    $('#pause').hidden = a.paused;
    $('#resume').hidden = !a.paused;
    $('#version').textContent = 'resource-manager ' + st.version;
  }

  function renderDependencies(st) {
    const ul = $('#dependencies');
    ul.replaceChildren();
    for (const d of st.dependencies) {
      const li = document.createElement('li');
      const state = !d.configured ? 'not configured' : d.up ? 'up' : 'down';
      li.className = 'badge ' + (d.configured ? (d.up ? 'up' : 'down') : '');
      li.textContent = d.name + ': ' + state;
      if (d.detail) li.title = d.detail;
      ul.appendChild(li);
    }
  }

  /* Cards are kept by service, so that a refresh never swaps a button away
   * under the pointer. */
  function renderPending(st) {
    const box = $('#pending');
    const tpl = $('#pending-template');
    const seen = new Set();
    for (const s of st.services) {
      if (!s.pending) continue;
      seen.add(s.name);
      let el = box.querySelector('article[data-service="' + CSS.escape(s.name) + '"]');
      if (!el) {
        el = tpl.content.firstElementChild.cloneNode(true);
        el.dataset.service = s.name;
        const approve = $('.approve', el), reject = $('.reject', el);
        approve.dataset.service = reject.dataset.service = s.name;
        const base = '/api/v1/services/' + encodeURIComponent(s.name);
        approve.addEventListener('click', () =>
          command(base + '/approve', 'approve ' + s.name, approve));
        reject.addEventListener('click', () =>
          command(base + '/reject', 'reject ' + s.name, reject));
        box.appendChild(el);
      }
      $('.name', el).textContent = s.name;
      $('.reason', el).textContent = reasonText(s.pending.reason);
      $('.expires', el).textContent = 'expires ' + time(s.pending.expires);
      $('.change', el).textContent = change(s.pending);
      $('.explanation', el).textContent = s.pending.explanation;
    }
    for (const el of Array.from(box.children)) {
      if (!seen.has(el.dataset.service)) el.remove();
    }
    $('#pending-count').textContent = seen.size;
    $('#pending-empty').hidden = seen.size > 0;
  }

  function hysteresisText(h) {
    const parts = [];
    for (const k of ['cpu_high', 'cpu_low', 'memory_high', 'memory_low', 'throttled']) {
      if (h[k] > 0) parts.push(k.replace('_', ' ') + ' ' + h[k] + '/' + h.needed);
    }
    return parts.join(', ') || 'inside thresholds';
  }

  function color(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function chartData(s, th) {
    const p = s.points;
    const labels = p.time.map(clock);
    const flat = (v) => p.time.map(() => v);
    const cpu = color('--cpu'), mem = color('--mem');
    const line = (label, data, c, dash) => ({
      label, data, borderColor: c, backgroundColor: c, borderWidth: dash ? 1 : 2,
      borderDash: dash ? [4, 4] : [], pointRadius: 0, spanGaps: false, tension: 0.2,
    });
    return {
      labels,
      datasets: [
        line('CPU', p.cpu_ratio, cpu, false),
        line('Memory', p.memory_ratio, mem, false),
        line('CPU high', flat(th.cpu_high), cpu, true),
        line('CPU low', flat(th.cpu_low), cpu, true),
        line('Memory high', flat(th.memory_high), mem, true),
        line('Memory low', flat(th.memory_low), mem, true),
      ],
    };
  }

  function drawChart(canvas, s, th) {
    if (typeof Chart === 'undefined') return;
    const data = chartData(s, th);
    let c = charts.get(s.name);
    if (c && c.canvas === canvas) {
      c.data = data;
      c.update('none');
      return;
    }
    if (c) c.destroy();
    const grid = color('--grid'), fg = color('--muted');
    c = new Chart(canvas, {
      type: 'line',
      data,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { ticks: { color: fg, maxTicksLimit: 6, maxRotation: 0 }, grid: { color: grid } },
          y: {
            min: 0, suggestedMax: 1, grid: { color: grid },
            ticks: { color: fg, callback: (v) => Math.round(v * 100) + '%' },
          },
        },
        plugins: {
          legend: {
            labels: {
              color: fg, boxWidth: 10,
              filter: (item) => item.datasetIndex < 2,
            },
          },
          tooltip: {
            filter: (item) => item.datasetIndex < 2,
            callbacks: { label: (ctx) => ctx.dataset.label + ': ' + pct(ctx.parsed.y) },
          },
        },
      },
    });
    charts.set(s.name, c);
  }

  function renderServices(st) {
    const box = $('#services');
    const tpl = $('#service-template');
    const seen = new Set();
    for (const s of st.services) {
      seen.add(s.name);
      let el = box.querySelector('article[data-service="' + CSS.escape(s.name) + '"]');
      if (!el) {
        el = tpl.content.firstElementChild.cloneNode(true);
        el.dataset.service = s.name;
        box.appendChild(el);
      }
      $('.name', el).textContent = s.name;
      const cls = $('.class', el);
      cls.textContent = s.class;
      cls.className = 'badge class ' + s.class;
      const dep = $('.deploy', el);
      dep.hidden = !s.deployment.active;
      dep.textContent = s.deployment.active ?
        (s.deployment.strategy + ': ' + s.deployment.phase) : '';
      const w = $('.watch', el);
      w.hidden = !s.watch;
      w.textContent = s.watch ? 'verifying until ' + time(s.watch.until) : '';
      $('.verified', el).textContent = s.counters.verified_changes + ' passed their watch, ' +
        s.counters.reverts + ' reverted';
      $('.containers', el).textContent = s.containers.length ?
        s.containers.join(', ') : 'no container found';
      $('.cpu', el).textContent = s.measured ?
        pct(s.cpu.ratio) + ' of ' + cores(s.cpu.limit) + ' (' +
        (s.cpu.used === null ? '—' : s.cpu.used.toFixed(3)) + ' used)' :
        'unknown' + (s.unknown_reason ? ': ' + s.unknown_reason : '');
      $('.memory', el).textContent = s.measured ?
        pct(s.memory.ratio) + ' of ' + bytes(s.memory.limit) + ' (' + bytes(s.memory.used) +
        ' used)' : 'unknown';
      $('.recommended', el).textContent = recommendedText(s.recommendation);
      $('.hysteresis', el).textContent = hysteresisText(s.hysteresis);
      $('.cooldown', el).textContent = s.cooldown_remaining > 0 ?
        duration(s.cooldown_remaining) : s.backoff_remaining > 0 ?
          'backing off ' + duration(s.backoff_remaining) : 'none';
      $('.changes', el).textContent = s.changes_today;
      const ld = s.last_deployment;
      $('.last-deploy', el).textContent = ld ? ld.strategy + ' ' + ld.status.replace(/_/g, ' ') +
        ' in ' + duration(ld.duration) + ' (' + time(ld.time) + ')' : 'none';
      const d = s.decision;
      $('.reason', el).textContent = d ? reasonText(d.reason) : 'no decision yet';
      $('.explanation', el).textContent = d ? d.explanation + ' (' + time(d.time) + ')' : '';
      drawChart($('canvas', el), s, st.thresholds);
    }
    for (const el of Array.from(box.children)) {
      if (!seen.has(el.dataset.service)) {
        const c = charts.get(el.dataset.service);
        if (c) { c.destroy(); charts.delete(el.dataset.service); }
        el.remove();
      }
    }
    $('#service-count').textContent = st.services.length;
    $('#services-empty').hidden = st.services.length > 0;
  }

  // "0.45 cores [0.39–0.54], 612 MiB [560 MiB–700 MiB] (3.2 days of history)"
  function recommendedText(r) {
    if (!r) return 'no recommendation (threshold policy or no history yet)';
    const part = (x, fmt) => x ? fmt(x.limit) + ' [' + fmt(x.lower) + '–' + fmt(x.upper) + ']' :
      'learning';
    return 'cpu ' + part(r.cpu, cores) + ', memory ' + part(r.memory, bytes) + ' (' +
      duration(r.history) + ' of history)';
  }

  // What each service's recommendation would give back: limit - recommended.
  function reclaimable(s, key) {
    const r = s.recommendation && s.recommendation[key];
    const lim = s[key] && s[key].limit;
    return r && r.limit && lim ? lim - r.limit : null;
  }

  let sortKey = 'cpu';

  function renderRecommendations(st) {
    const tbody = $('#recommendations tbody');
    const rows = st.services.filter((s) => s.recommendation);
    rows.sort((a, b) => (reclaimable(b, sortKey) || 0) - (reclaimable(a, sortKey) || 0) ||
      a.name.localeCompare(b.name));
    tbody.replaceChildren();
    const pair = (r, fmt) => r ? fmt(r.p50) + ' / ' + fmt(r.p99) : '—';
    const num = (x, fmt) => x === null || x === undefined ? '—' : fmt(x);
    // Reclaimable can be 0 or negative (the service needs more than it has).
    const delta = (x, fmt) => x === null || x === undefined ? '—' : x === 0 ? '0' :
      x < 0 ? '−' + fmt(-x) : fmt(x);
    for (const s of rows) {
      const r = s.recommendation;
      const tr = document.createElement('tr');
      tr.dataset.service = s.name;
      const cells = [s.name, num(s.cpu.limit, cores), pair(r.cpu, cores),
        num(r.cpu && r.cpu.limit, cores), delta(reclaimable(s, 'cpu'), cores),
        num(s.memory.limit, bytes), pair(r.memory, bytes), num(r.memory && r.memory.limit, bytes),
        delta(reclaimable(s, 'memory'), bytes)];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = text;
        if (i > 0) td.className = 'num';
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    }
    const f = st.fleet;
    $('#recommendations tfoot').replaceChildren();
    if (f && f.services) {
      const tr = document.createElement('tr');
      [ 'fleet', cores(f.cpu.limits), '', cores(f.cpu.recommended), delta(f.cpu.reclaimable, cores),
        bytes(f.memory.limits), '', bytes(f.memory.recommended), delta(f.memory.reclaimable, bytes) ]
        .forEach((text, i) => {
          const td = document.createElement('td');
          td.textContent = text;
          if (i > 0) td.className = 'num';
          tr.appendChild(td);
        });
      $('#recommendations tfoot').appendChild(tr);
      $('#fleet').textContent = 'Fleet (' + f.services + ' services): CPU limits ' +
        cores(f.cpu.limits) + ', recommended ' + cores(f.cpu.recommended) + ', used ' +
        cores(f.cpu.usage) + '; memory limits ' + bytes(f.memory.limits) + ', recommended ' +
        bytes(f.memory.recommended) + ', used ' + bytes(f.memory.usage) + '.';
    } else {
      $('#fleet').textContent = st.automation.policy === 'percentile' ?
        'No recommendation yet: the histograms fill at every check.' :
        'Recommendations come with adjustment.policy: percentile.';
    }
  }

  function renderHistory(h) {
    const tbody = $('#history tbody');
    tbody.replaceChildren();
    for (const e of h.events) {
      const tr = document.createElement('tr');
      tr.className = 'event ' + e.kind;
      const cells = [
        time(e.time), e.service, e.kind, e.outcome, e.strategy || '',
        e.duration === null ? '' : duration(e.duration),
        e.from || e.to ? limits(e.from) + ' → ' + limits(e.to) : '',
        e.explanation || reasonText(e.reason),
      ];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = text === null || text === undefined ? '' : text;
        if (i === 5 || i === 6) td.className = 'num';
        if (i === 7) td.className = 'explanation';
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    }
  }

  async function refresh() {
    try {
      const [st, h] = await Promise.all([getJSON('/api/v1/status'),
        getJSON('/api/v1/history?limit=50')]);
      renderHeader(st);
      renderDependencies(st);
      renderPending(st);
      renderServices(st);
      renderRecommendations(st);
      renderHistory(h);
      document.body.dataset.loaded = 'true';
    } catch (e) {
      showMessage('Cannot load the status: ' + e.message, true);
    }
  }

  async function command(path, what, button) {
    if (busy) return;
    busy = true;
    if (button) button.disabled = true;
    try {
      const r = await fetch(path, {
        method: 'POST',
        headers: headers({ 'X-Requested-By': 'resource-manager',
          'Content-Type': 'application/json' }),
        body: '{}',
      });
      const body = await r.json().catch(() => ({}));
      if (r.ok) showMessage(what + ': ' + (body.message || 'done'), false);
      else showMessage(what + ' refused: ' + (body.error || body.message || r.status), true);
    } catch (e) {
      showMessage(what + ' failed: ' + e.message, true);
    } finally {
      busy = false;
      if (button) button.disabled = false;
      await refresh();
    }
  }

  function start() {
    $('#pause').addEventListener('click', (ev) =>
      command('/api/v1/automation/pause', 'pause automation', ev.currentTarget));
    $('#resume').addEventListener('click', (ev) =>
      command('/api/v1/automation/resume', 'resume automation', ev.currentTarget));
    $('#token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = $('#token').value.trim();
      if (v) localStorage.setItem(TOKEN_KEY, v);
      $('#token').value = '';
      $('#auth').open = false;
      showMessage(v ? 'Token saved in this browser.' : '', false);
      refresh();
    });
    $('#token-clear').addEventListener('click', () => {
      localStorage.removeItem(TOKEN_KEY);
      $('#auth').open = false;
      showMessage('Token forgotten.', false);
    });
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      for (const c of charts.values()) c.destroy();
      charts.clear();
      refresh();
    });
    for (const b of document.querySelectorAll('#recommendations .sort')) {
      b.addEventListener('click', () => { sortKey = b.dataset.key; refresh(); });
    }
    refresh();
    timer = setInterval(refresh, REFRESH_MS);
    document.addEventListener('visibilitychange', () => {
      clearInterval(timer);
      if (!document.hidden) { refresh(); timer = setInterval(refresh, REFRESH_MS); }
    });
  }

  document.addEventListener('DOMContentLoaded', start);
})();
