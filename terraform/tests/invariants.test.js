// Infrastructure invariants the issue asks for, read from the parsed HCL
// (@cdktf/hcl2json): a refactor that drops one of them fails CI even though
// the configuration would still be valid terraform.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { parse } = require('@cdktf/hcl2json');

const MODULES = path.join(__dirname, '..', 'modules');

async function mod(name) {
  const dir = path.join(MODULES, name);
  const merged = { resource: {}, data: {}, variable: {}, module: {} };
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.tf'))) {
    const j = await parse(f, fs.readFileSync(path.join(dir, f), 'utf8'));
    for (const kind of Object.keys(merged)) {
      for (const [k, v] of Object.entries(j[kind] || {})) {
        if (kind === 'resource' || kind === 'data') merged[kind][k] = { ...(merged[kind][k] || {}), ...v };
        else merged[kind][k] = v;
      }
    }
  }
  return merged;
}
const one = (m, kind, type, name) => {
  const r = m[kind][type] && m[kind][type][name];
  assert.ok(r, `${kind} ${type}.${name} exists`);
  return r[0];
};
const def = (m, v) => m.variable[v][0].default;

test('dashboard bucket is private and owner-enforced', async () => {
  const m = await mod('static_site');
  const pab = one(m, 'resource', 'aws_s3_bucket_public_access_block', 'site');
  for (const k of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) assert.equal(pab[k], true, k);
  assert.equal(one(m, 'resource', 'aws_s3_bucket_ownership_controls', 'site').rule[0].object_ownership, 'BucketOwnerEnforced');
  const oac = one(m, 'resource', 'aws_cloudfront_origin_access_control', 'site');
  assert.equal(oac.origin_access_control_origin_type, 's3');
  assert.equal(oac.signing_behavior, 'always');
});

test('CloudFront: HTTPS only, compressed, long cache for /assets, short for the rest, us-east-1 certificate', async () => {
  const m = await mod('static_site');
  const d = one(m, 'resource', 'aws_cloudfront_distribution', 'site');
  const behaviours = [...d.default_cache_behavior, ...d.ordered_cache_behavior];
  for (const b of behaviours) {
    assert.equal(b.viewer_protocol_policy, 'redirect-to-https');
    assert.equal(b.compress, true);
    assert.match(b.response_headers_policy_id, /aws_cloudfront_response_headers_policy\.security/);
    assert.match(b.function_association[0].function_arn, /aws_cloudfront_function\.canonical_host/);
  }
  const assets = d.ordered_cache_behavior.find((b) => b.path_pattern === '/assets/*');
  assert.ok(assets, '/assets/* behaviour');
  assert.match(assets.cache_policy_id, /data\.aws_cloudfront_cache_policy\.caching_optimized/);
  assert.equal(one(m, 'data', 'aws_cloudfront_cache_policy', 'caching_optimized').name, 'Managed-CachingOptimized');
  assert.match(d.default_cache_behavior[0].cache_policy_id, /aws_cloudfront_cache_policy\.html/);
  assert.ok(def(m, 'html_max_ttl_s') <= 300, 'index.html cached for minutes at most');
  assert.equal(d.viewer_certificate[0].ssl_support_method, 'sni-only');
  assert.equal(one(m, 'resource', 'aws_acm_certificate', 'site').provider, '${aws.us_east_1}');
  assert.equal(one(m, 'resource', 'aws_acm_certificate_validation', 'site').provider, '${aws.us_east_1}');
});

test('websocket ALB: TLS, /healthz checks, idle timeout far above the heartbeat', async () => {
  const m = await mod('websocket_api');
  const lb = one(m, 'resource', 'aws_lb', 'api');
  assert.equal(lb.load_balancer_type, 'application');
  assert.equal(lb.idle_timeout, '${var.idle_timeout_s}');
  assert.ok(def(m, 'idle_timeout_s') >= 10 * def(m, 'heartbeat_interval_s'));
  const tg = one(m, 'resource', 'aws_lb_target_group', 'gateway');
  assert.equal(tg.health_check[0].path, '/healthz');
  assert.equal(tg.target_type, 'ip');
  assert.ok(def(m, 'deregistration_delay_s') <= 60, 'deploys do not hang on websockets');
  const https = one(m, 'resource', 'aws_lb_listener', 'https');
  assert.equal(https.protocol, 'HTTPS');
  assert.match(https.ssl_policy, /TLS13/);
  assert.equal(one(m, 'resource', 'aws_lb_listener', 'http').default_action[0].type, 'redirect');
});

test('ECS: Fargate gateway and ingest, GPU calibrator, circuit breaker everywhere', async () => {
  const m = await mod('ecs');
  for (const s of ['gateway', 'ingest', 'calibrator']) {
    const svc = one(m, 'resource', 'aws_ecs_service', s);
    assert.deepEqual(svc.deployment_circuit_breaker[0], { enable: true, rollback: true }, s);
    assert.equal(svc.network_configuration[0].assign_public_ip, false, s);
  }
  for (const s of ['gateway', 'ingest']) assert.deepEqual(one(m, 'resource', 'aws_ecs_task_definition', s).requires_compatibilities, ['FARGATE']);
  assert.deepEqual(one(m, 'resource', 'aws_ecs_task_definition', 'calibrator').requires_compatibilities, ['EC2']);
  assert.match(one(m, 'resource', 'aws_ecs_service', 'calibrator').capacity_provider_strategy[0].capacity_provider, /aws_ecs_capacity_provider\.gpu/);
  assert.match(def(m, 'gpu_ami_ssm_parameter'), /^\/aws\/service\/ecs\/optimized-ami\/.+\/gpu\//);
  const cp = one(m, 'resource', 'aws_ecs_capacity_provider', 'gpu').auto_scaling_group_provider[0];
  assert.equal(cp.managed_scaling[0].status, 'ENABLED');
  assert.equal(one(m, 'resource', 'aws_autoscaling_group', 'gpu').protect_from_scale_in, true);
  assert.equal(one(m, 'resource', 'aws_launch_template', 'gpu').metadata_options[0].http_tokens, 'required');
  for (const r of ['cpu', 'gpu']) assert.equal(one(m, 'resource', 'aws_ecr_repository', r).image_tag_mutability, 'IMMUTABLE', r);
});

test('autoscaling tracks CPU, ALB requests and a custom metric', async () => {
  const m = await mod('ecs');
  const policies = Object.values(m.resource.aws_appautoscaling_policy).map((p) => p[0].target_tracking_scaling_policy_configuration[0]);
  const predefined = policies.flatMap((p) => (p.predefined_metric_specification || []).map((s) => s.predefined_metric_type));
  assert.ok(predefined.includes('ECSServiceAverageCPUUtilization'));
  assert.ok(predefined.includes('ALBRequestCountPerTarget'));
  assert.ok(policies.some((p) => p.customized_metric_specification && p.customized_metric_specification[0].metric_name === 'WebsocketConnections'));
});

test('logs are retained for a bounded time', async () => {
  for (const name of ['ecs', 'msk']) {
    const m = await mod(name);
    for (const [n, [g]] of Object.entries(m.resource.aws_cloudwatch_log_group)) assert.ok(g.retention_in_days, `${name}.${n}`);
  }
});

test('every service metric has an alarm wired to SNS', async () => {
  const src = fs.readFileSync(path.join(MODULES, 'observability', 'main.tf'), 'utf8');
  for (const metric of ['FeedAgeMs', 'FitBatchMs', 'QuoteQueueDepth', 'DroppedMessages', 'WebsocketConnections', 'FitRmseVolPts'])
    assert.match(src, new RegExp(`metric\\s*=\\s*"${metric}"`), metric);
  const m = await mod('observability');
  for (const [n, [a]] of Object.entries(m.resource.aws_cloudwatch_metric_alarm))
    assert.deepEqual(a.alarm_actions, ['${aws_sns_topic.alarms.arn}'], n);
  one(m, 'resource', 'aws_cloudwatch_dashboard', 'this');
});

test('MSK is optional and off by default', async () => {
  const m = await mod('volsurf');
  assert.equal(def(m, 'enable_msk'), false);
  assert.equal(m.module.msk[0].count, '${var.enable_msk ? 1 : 0}');
});

test('prod and staging expose the same variables', async () => {
  const vars = async (env) => {
    const j = await parse('variables.tf', fs.readFileSync(path.join(__dirname, '..', 'envs', env, 'variables.tf'), 'utf8'));
    return Object.keys(j.variable).sort();
  };
  assert.deepEqual(await vars('prod'), await vars('staging'));
});
