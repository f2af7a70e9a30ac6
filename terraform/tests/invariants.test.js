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

test('ECS: single = one Fargate service; split = Fargate gateway and ingest, GPU calibrator; circuit breaker everywhere', async () => {
  const m = await mod('ecs');
  assert.equal(def(m, 'topology'), 'single');
  const SINGLE = '${local.split ? 0 : 1}';
  const SPLIT = '${local.split ? 1 : 0}';
  for (const s of ['volsurf', 'gateway', 'ingest', 'calibrator']) {
    const svc = one(m, 'resource', 'aws_ecs_service', s);
    assert.equal(svc.count, s === 'volsurf' ? SINGLE : SPLIT, `${s} exists in its topology only`);
    assert.equal(one(m, 'resource', 'aws_ecs_task_definition', s).count, svc.count, `${s} task definition`);
    assert.deepEqual(svc.deployment_circuit_breaker[0], { enable: true, rollback: true }, s);
    assert.equal(svc.network_configuration[0].assign_public_ip, false, s);
  }
  for (const s of ['volsurf', 'gateway']) {
    const svc = one(m, 'resource', 'aws_ecs_service', s);
    assert.equal(svc.load_balancer[0].container_name, s, `${s} is the ALB target`);
    assert.equal(svc.deployment_minimum_healthy_percent, 100, `${s}: new tasks before old ones drain`);
  }
  for (const s of ['volsurf', 'gateway', 'ingest']) assert.deepEqual(one(m, 'resource', 'aws_ecs_task_definition', s).requires_compatibilities, ['FARGATE']);
  assert.deepEqual(one(m, 'resource', 'aws_ecs_task_definition', 'volsurf').volume, [{ name: 'tmp' }], 'writable /tmp volume');
  assert.deepEqual(one(m, 'resource', 'aws_ecs_task_definition', 'calibrator').requires_compatibilities, ['EC2']);
  assert.match(one(m, 'resource', 'aws_ecs_service', 'calibrator').capacity_provider_strategy[0].capacity_provider, /aws_ecs_capacity_provider\.gpu/);
  assert.match(def(m, 'gpu_ami_ssm_parameter'), /^\/aws\/service\/ecs\/optimized-ami\/.+\/gpu\//);
  // GPU capacity exists only for split: single pays for no GPU instance.
  for (const [kind, type, name] of [['data', 'aws_ssm_parameter', 'gpu_ami'], ['resource', 'aws_launch_template', 'gpu'],
    ['resource', 'aws_autoscaling_group', 'gpu'], ['resource', 'aws_ecs_capacity_provider', 'gpu'], ['resource', 'aws_iam_role', 'gpu_instance']])
    assert.equal(one(m, kind, type, name).count, SPLIT, `${type}.${name}`);
  const cp = one(m, 'resource', 'aws_ecs_capacity_provider', 'gpu').auto_scaling_group_provider[0];
  assert.equal(cp.managed_scaling[0].status, 'ENABLED');
  assert.equal(one(m, 'resource', 'aws_autoscaling_group', 'gpu').protect_from_scale_in, true);
  assert.equal(one(m, 'resource', 'aws_launch_template', 'gpu').metadata_options[0].http_tokens, 'required');
  for (const r of ['cpu', 'gpu']) assert.equal(one(m, 'resource', 'aws_ecr_repository', r).image_tag_mutability, 'IMMUTABLE', r);
  // Egress: the exchanges are wss on 443, except OKX on 8443 (feeds/venue.c).
  const venueC = fs.readFileSync(path.join(MODULES, '..', '..', 'feeds', 'venue.c'), 'utf8');
  const ports = new Set([...venueC.matchAll(/"wss:\/\/[^/":]+(?::(\d+))?\//g)].map((x) => Number(x[1] || 443)));
  const egress = Object.values(m.resource.aws_vpc_security_group_egress_rule).map((r) => r[0]).filter((r) => r.cidr_ipv4 === '0.0.0.0/0');
  for (const p of ports) assert.ok(egress.some((r) => r.from_port <= p && p <= r.to_port), `tasks reach venue port ${p}`);
});

test('single topology: Fargate CPU, its own execution policy without secrets, and the Role it reports is all', async () => {
  const m = await mod('ecs');
  assert.equal(def(m, 'fit_backend'), 'auto');
  assert.equal(one(m, 'resource', 'aws_iam_role_policy', 'execution_single').for_each, '${local.split ? toset([]) : local.roles}');
  assert.equal(one(m, 'resource', 'aws_iam_role_policy', 'ingest_secrets').count, '${local.split ? 1 : 0}');
  const src = fs.readFileSync(path.join(MODULES, 'ecs', 'main.tf'), 'utf8');
  assert.match(src, /service_roles = local\.split \? \{\s*gateway\s*= "gateway"\s*ingest\s*= "ingest"\s*calibrator = "calibrate"\s*\} : \{ volsurf = "all" \}/);
});

test('autoscaling tracks CPU, ALB requests and a custom metric', async () => {
  const m = await mod('ecs');
  const policies = Object.values(m.resource.aws_appautoscaling_policy).map((p) => p[0].target_tracking_scaling_policy_configuration[0]);
  const predefined = policies.flatMap((p) => (p.predefined_metric_specification || []).map((s) => s.predefined_metric_type));
  assert.ok(predefined.includes('ECSServiceAverageCPUUtilization'));
  assert.ok(predefined.includes('ALBRequestCountPerTarget'));
  const custom = policies.find((p) => p.customized_metric_specification && p.customized_metric_specification[0].metric_name === 'WebsocketConnections');
  assert.ok(custom);
  const dim = custom.customized_metric_specification[0].dimensions[0];
  assert.deepEqual(dim, { name: 'Role', value: '${local.service_roles[local.front_service]}' }, 'Role = the --role of the ALB target');
  assert.equal(custom.customized_metric_specification[0].statistic, 'Average', 'per task');
  const target = one(m, 'resource', 'aws_appautoscaling_target', 'front');
  assert.match(target.resource_id, /\$\{local\.front_service\}/);
  assert.match(fs.readFileSync(path.join(MODULES, 'ecs', 'autoscaling.tf'), 'utf8'), /front_service = local\.split \? "gateway" : "volsurf"/);
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

test('MSK is optional and off by default; topology single by default; split refused without Kafka', async () => {
  const m = await mod('volsurf');
  assert.equal(def(m, 'enable_msk'), false);
  assert.equal(def(m, 'topology'), 'single');
  assert.equal(m.module.msk[0].count, '${var.enable_msk ? 1 : 0}');
  const cond = (v) => m.variable[v][0].validation.map((x) => x.condition).join(' && ');
  assert.equal(cond('kafka_bootstrap_brokers'), '${var.topology != "split" || var.enable_msk || length(var.kafka_bootstrap_brokers) > 0}');
  assert.equal(cond('enable_msk'), '${!var.enable_msk || var.topology == "split"}');
  assert.equal(m.module.ecs[0].topology, '${var.topology}');
  assert.equal(m.module.observability[0].topology, '${var.topology}');
  assert.match(m.module.secrets[0].venues, /local\.split \?/, 'exchange secrets only for split');
});

test('both environments apply the single topology with MSK off', async () => {
  for (const env of ['prod', 'staging']) {
    const dir = path.join(__dirname, '..', 'envs', env);
    const tfvars = await parse('terraform.tfvars', fs.readFileSync(path.join(dir, 'terraform.tfvars'), 'utf8'));
    assert.equal(tfvars.topology, 'single', env);
    assert.equal(tfvars.enable_msk, false, env);
    const main = await parse('main.tf', fs.readFileSync(path.join(dir, 'main.tf'), 'utf8'));
    const v = await parse('variables.tf', fs.readFileSync(path.join(dir, 'variables.tf'), 'utf8'));
    for (const k of Object.keys(v.variable).filter((k) => !['region'].includes(k)))
      assert.equal(main.module.volsurf[0][k], `\${var.${k}}`, `${env}: variable ${k} reaches the module`);
  }
});

// The variable validations, evaluated by terraform itself when a binary is
// installed (a root module of only variables needs no provider).
test('terraform refuses split without Kafka and MSK without split', { skip: !hasTerraform() && 'no terraform binary' }, () => {
  const os = require('node:os');
  const { spawnSync } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfvalid-'));
  try {
    fs.copyFileSync(path.join(MODULES, 'volsurf', 'variables.tf'), path.join(dir, 'variables.tf'));
    const env = { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' };
    const tf = (...a) => spawnSync('terraform', a, { cwd: dir, env, encoding: 'utf8', timeout: 20000 });
    assert.equal(tf('init', '-input=false', '-no-color').status, 0, 'init');
    const base = ['plan', '-input=false', '-no-color', '-lock=false', ...['name', 'environment', 'domain', 'route53_zone_name', 'image_tag', 'gpu_image_tag'].flatMap((k) => ['-var', `${k}=x`])];
    const plan = (...vars) => { const r = tf(...base, ...vars.flatMap((v) => ['-var', v])); return { ok: r.status === 0, out: r.stdout + r.stderr }; };
    assert.ok(plan().ok, 'defaults: single, no MSK');
    const split = plan('topology=split');
    assert.ok(!split.ok && /needs enable_msk = true or kafka_bootstrap_brokers/.test(split.out), split.out);
    assert.ok(plan('topology=split', 'enable_msk=true').ok, 'split with MSK');
    assert.ok(plan('topology=split', 'kafka_bootstrap_brokers=b-1:9094').ok, 'split with brokers');
    const msk = plan('enable_msk=true');
    assert.ok(!msk.ok && /enable_msk needs topology/.test(msk.out), msk.out);
    assert.ok(!plan('topology=both').ok, 'unknown topology');
    assert.ok(!plan('venues=sim').ok, 'simulator is not a deployment');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function hasTerraform() {
  const { spawnSync } = require('node:child_process');
  return spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
}

test('prod and staging expose the same variables', async () => {
  const vars = async (env) => {
    const j = await parse('variables.tf', fs.readFileSync(path.join(__dirname, '..', 'envs', env, 'variables.tf'), 'utf8'));
    return Object.keys(j.variable).sort();
  };
  assert.deepEqual(await vars('prod'), await vars('staging'));
});
