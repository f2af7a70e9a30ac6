// The CloudWatch side (alarms, dashboard, autoscaling) against what volsurf
// actually writes: metric names, units and dimension sets from
// host/metrics.c, the Role values from host/cmd_serve.c, the EMF period, and
// the JSON log level host/log.c writes.  fixtures/emf-serve-all.jsonl holds
// one line per metric captured from `VOLSURF_ENV=staging volsurf serve
// --role all --metrics-emf` (simulator venue), so the test also runs the
// alarms' (namespace, metric, dimensions) against real records.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const TF = path.join(__dirname, '..');
const REPO = path.join(TF, '..');
const read = (...p) => fs.readFileSync(path.join(...p), 'utf8');
const METRICS_C = read(REPO, 'host', 'metrics.c');
const METRICS_H = read(REPO, 'host', 'metrics.h');
const SERVE_C = read(REPO, 'host', 'cmd_serve.c');
const OBS = read(TF, 'modules', 'observability', 'main.tf');

// {"volsurf_feed_age_ms", "FeedAgeMs", "Milliseconds"} rows, plus the
// DroppedMessages line metrics_write_emf writes by hand.
const EMF = {};
for (const m of METRICS_C.matchAll(/\{"(volsurf_[a-z_]+)", "([A-Za-z]+)", "([A-Za-z]+)"\}/g)) EMF[m[2]] = { prom: m[1], unit: m[3] };
{
  const m = /emf_line\([^;]*"DroppedMessages", "([A-Za-z]+)"/.exec(METRICS_C);
  assert.ok(m, 'metrics.c writes DroppedMessages');
  EMF.DroppedMessages = { prom: /#define EMF_DROPPED_PROM "([a-z_]+)"/.exec(METRICS_C)[1], unit: m[1] };
}
// Labels per Prometheus name from the metrics.h table: name{a,b}.
const LABELS = {};
for (const m of METRICS_H.matchAll(/^ \*   (volsurf_[a-z_]+)(?:\{([a-z,]+)\})?\s/gm)) LABELS[m[1]] = m[2] ? m[2].split(',') : [];
const cap = (s) => s[0].toUpperCase() + s.slice(1);
const ROLES = /\[--role ([a-z|]+)\]/.exec(SERVE_C)[1].split('|');

// The alarms in observability/main.tf: metric, stage, statistic, expression.
function alarms() {
  const body = /emf_alarms = \{([\s\S]*?)\n  \}\n  percentile_stats/.exec(OBS)[1];
  const out = {};
  for (const m of body.matchAll(/\n    ([a-z-]+) = \{([\s\S]*?)\n    \}/g)) {
    const field = (k) => { const r = new RegExp(`\\n\\s+${k}\\s+= "([^"]*)"`).exec(m[2]); return r && r[1]; };
    out[m[1]] = { metric: field('metric'), stage: field('stage'), statistic: field('statistic'), expression: field('expression') };
  }
  return out;
}
function stageRoles() {
  const m = /stage_role = local\.split \? \{([\s\S]*?)\} : \{([\s\S]*?)\}/.exec(OBS);
  const parse = (s) => Object.fromEntries([...s.matchAll(/(\w+)\s+= "(\w+)"/g)].map((x) => [x[1], x[2]]));
  return { split: parse(m[1]), single: parse(m[2]) };
}

test('the EMF tables were read from host/metrics.c and metrics.h', () => {
  for (const n of ['FeedAgeMs', 'QuoteQueueDepth', 'FitBatchMs', 'FitRmseVolPts', 'WebsocketConnections', 'DroppedMessages']) assert.ok(EMF[n], n);
  assert.deepEqual(LABELS.volsurf_fit_rmse_vol_pts, ['venue', 'asset', 'expiry']);
  assert.deepEqual(ROLES, ['all', 'ingest', 'calibrate', 'gateway']);
});

test('every alarm reads a metric volsurf writes, with the Role of the process that writes it', () => {
  const a = alarms();
  assert.equal(Object.keys(a).length, 6);
  const roles = stageRoles();
  assert.deepEqual(Object.values(roles.single), ['all', 'all', 'all'], 'single: one process, --role all');
  assert.deepEqual(roles.split, { feeds: 'ingest', calibration: 'calibrate', gateway: 'gateway' });
  for (const r of [...Object.values(roles.single), ...Object.values(roles.split)]) assert.ok(ROLES.includes(r), r);
  for (const [k, x] of Object.entries(a)) {
    assert.ok(EMF[x.metric], `${k}: ${x.metric} is an EMF name of host/metrics.c`);
    assert.ok(x.stage in roles.single, `${k}: stage ${x.stage}`);
  }
  assert.match(OBS, /dimensions\s+= \{ Role = local\.stage_role\[each\.value\.stage\] \}/, 'alarms use exactly the [Role] dimension set');
});

test('statistics fit what each EMF value is', () => {
  const a = alarms();
  // Summaries are written as the p99 of the 10 s interval: take the worst of
  // those, not a percentile of percentiles.
  assert.equal(a['fit-slow'].statistic, 'Maximum');
  // A per-process gauge summed over a period counts each process once per
  // EMF line: the alarm divides by the lines per period.
  const ws = a['websocket-connections'];
  assert.equal(ws.statistic, 'Sum');
  assert.equal(ws.expression, 'm1 * ${local.emf_period_s} / PERIOD(m1)');
  const period = Number(/emf_period_s = (\d+)/.exec(OBS)[1]);
  assert.equal(period * 1000, Number(/#define SERVE_EMF_PERIOD_MS (\d+)/.exec(SERVE_C)[1]), 'emf_period_s = SERVE_EMF_PERIOD_MS / 1000');
  // DroppedMessages is the increase since the previous line: Sum is the total.
  assert.equal(a['dropped-messages'].statistic, 'Sum');
  assert.equal(EMF.DroppedMessages.prom, 'volsurf_ws_dropped_total');
});

test('dashboard SEARCH dimension sets are the ones metrics.c derives from the labels', () => {
  for (const m of OBS.matchAll(/SEARCH\('\{\$\{local\.ns\},([A-Za-z,]+)\} MetricName=\\"(\w+)\\"'/g)) {
    const metric = m[2];
    const want = ['Role', ...LABELS[EMF[metric].prom].map(cap)];
    assert.deepEqual(m[1].split(','), want, metric);
  }
  assert.equal([...OBS.matchAll(/SEARCH\(/g)].length, 2);
});

test('autoscaling tracks an EMF metric volsurf writes', () => {
  const src = read(TF, 'modules', 'ecs', 'autoscaling.tf');
  const m = /metric_name = "(\w+)"/.exec(src);
  assert.ok(EMF[m[1]], m[1]);
  assert.match(src, /name\s+= "Role"/);
});

test('the error log filter matches the JSON lines host/log.c writes', () => {
  const logC = read(REPO, 'host', 'log.c');
  assert.match(logC, /names\[\] = \{"debug", "info", "warn", "error"\}/);
  assert.match(logC, /\\"level\\":\\"%s\\"/);
  assert.match(OBS, /pattern\s+= "\{ \$\.level = \\"error\\" \}"/);
});

test('real EMF records from volsurf serve --role all land on the alarms\' metrics', () => {
  const lines = read(__dirname, 'fixtures', 'emf-serve-all.jsonl').trim().split('\n').map((l) => JSON.parse(l));
  // CloudWatch's extraction: one metric per (namespace, name, dimension set).
  const extracted = new Set();
  for (const l of lines) {
    for (const d of l._aws.CloudWatchMetrics) {
      for (const met of d.Metrics) {
        assert.equal(met.Unit, EMF[met.Name].unit, `${met.Name} unit as in metrics.c`);
        for (const set of d.Dimensions) extracted.add(JSON.stringify([d.Namespace, met.Name, set.map((k) => [k, l[k]])]));
      }
    }
  }
  const ns = 'Volsurf/staging'; // modules/volsurf: "Volsurf/${var.environment}" = cmd_serve's default from VOLSURF_ENV
  assert.match(read(TF, 'modules', 'volsurf', 'main.tf'), /metrics_namespace = "Volsurf\/\$\{var\.environment\}"/);
  const roles = stageRoles().single;
  for (const [k, a] of Object.entries(alarms())) {
    if (a.metric === 'DroppedMessages') continue; // written only once a message was dropped
    const key = JSON.stringify([ns, a.metric, [['Role', roles[a.stage]]]]);
    assert.ok(extracted.has(key), `${k}: ${key} is extracted from the records`);
  }
});
