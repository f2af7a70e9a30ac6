// Validates the JSON the terraform renders with templatefile(): ECS container
// definitions, IAM policies (identity, trust and bucket policies) and ECR
// lifecycle rules.  terraform cannot run in CI, so this test
//   1. finds every templatefile("...json.tftpl", {vars}) call in the HCL
//      (parsed with @cdktf/hcl2json, the parser tfcheck uses),
//   2. checks that the vars passed are exactly the template's placeholders,
//   3. renders the template with realistic sample values and JSON.parses it,
//   4. checks the structure: required keys, credentials only through
//      `secrets` with ARN valueFrom, least privilege (no "*" actions, "*"
//      resources only where AWS offers nothing narrower).
// Needs NODE_PATH to hold @cdktf/hcl2json (scripts/check-terraform.sh sets it).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { parse } = require('@cdktf/hcl2json');

const TF_ROOT = path.join(__dirname, '..');
const ACCOUNT = '123456789012';
const REGION = 'eu-west-2';

function walk(dir, pred) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, pred));
    else if (pred(e.name)) out.push(p);
  }
  return out;
}

// ------------------------------------------------------------ HCL side

function strings(node, out = []) {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) node.forEach((n) => strings(n, out));
  else if (node && typeof node === 'object') Object.values(node).forEach((n) => strings(n, out));
  return out;
}

// Returns [{tf, template, vars: {key: expr}, attr}] for every templatefile call.
async function templateCalls() {
  const calls = [];
  for (const tf of walk(TF_ROOT, (n) => n.endsWith('.tf'))) {
    const j = await parse(tf, fs.readFileSync(tf, 'utf8'));
    for (const s of strings(j)) {
      const re = /templatefile\("\$\{path\.module\}\/([^"]+)",\s*\{/g;
      let m;
      while ((m = re.exec(s))) {
        let depth = 1;
        let i = re.lastIndex;
        while (i < s.length && depth > 0) {
          if (s[i] === '{') depth++;
          else if (s[i] === '}') depth--;
          i++;
        }
        const body = s.slice(re.lastIndex, i - 1);
        const vars = {};
        for (const v of body.matchAll(/(?:^|\n|\{)\s*([a-z_][a-z0-9_]*)\s*=\s*([^\n}]+)/g)) vars[v[1]] = v[2].trim();
        calls.push({ tf, template: path.resolve(path.dirname(tf), m[1]), vars });
      }
    }
  }
  return calls;
}

// ------------------------------------------------------------ rendering

function placeholders(text) {
  assert.doesNotMatch(text, /%\{/, 'templates use no directives (keeps them renderable here)');
  return [...new Set([...text.matchAll(/\$\{([a-z_][a-z0-9_]*)\}/g)].map((m) => m[1]))].sort();
}

function sampleArn(name) {
  if (/secret/.test(name)) return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:volsurf-prod/exchange/${name.split('_')[0]}-AbC123`;
  if (/param/.test(name)) return `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/volsurf-prod/config/kafka_brokers`;
  if (/repository/.test(name)) return `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/volsurf-prod/volsurf`;
  if (/log_group/.test(name)) return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/volsurf-prod/gateway`;
  if (/bucket/.test(name)) return 'arn:aws:s3:::volsurf-prod-dashboard-20260101';
  if (/distribution/.test(name)) return `arn:aws:cloudfront::${ACCOUNT}:distribution/E2EXAMPLE`;
  throw new Error(`no sample ARN for ${name}`);
}

const SAMPLES = {
  image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/volsurf-prod/volsurf:3f2a9c1`,
  port: 8080,
  memory_mib: 12288,
  gpus: 1,
  keep_images: 30,
  environment: 'prod',
  metrics_namespace: 'Volsurf/prod',
  allowed_origin: 'https://volsurf.example.com',
  venues: 'deribit,okx,bybit,binance',
  fit_backend: 'auto',
  static_dir: '/usr/share/volsurf/web',
  log_level: 'info',
  log_group: '/volsurf-prod/gateway',
  region: REGION,
  account_id: ACCOUNT,
  partition: 'aws',
};

function sample(name) {
  if (name.endsWith('_arn')) return sampleArn(name);
  if (name in SAMPLES) return SAMPLES[name];
  throw new Error(`no sample value for placeholder ${name}: add one to SAMPLES`);
}

// Substitutes ${x}: inside a JSON string as text, outside as a JSON value.
function render(text) {
  let out = '';
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '$' && text[i + 1] === '{') {
      const end = text.indexOf('}', i);
      const v = sample(text.slice(i + 2, end));
      out += inStr ? String(v) : JSON.stringify(v);
      i = end;
      continue;
    }
    if (inStr && c === '\\') { out += c + text[i + 1]; i++; continue; }
    if (c === '"') inStr = !inStr;
    out += c;
  }
  return JSON.parse(out);
}

// ------------------------------------------------------------ checks

const ARN_RE = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+/;
// Actions that AWS authorizes only on "*" (no resource-level permission).
const STAR_RESOURCE_OK = new Set(['ecr:GetAuthorizationToken']);
const SECRETISH = /(SECRET|PASSWORD|PASSPHRASE|TOKEN|API_?KEY|PRIVATE|CREDENTIAL)/i;

function asList(x) {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

function checkPolicy(doc, where) {
  assert.equal(doc.Version, '2012-10-17', `${where}: Version`);
  assert.ok(Array.isArray(doc.Statement) && doc.Statement.length > 0, `${where}: Statement list`);
  const sids = new Set();
  for (const st of doc.Statement) {
    const w = `${where} ${st.Sid || '(no Sid)'}`;
    if (st.Sid) { assert.ok(!sids.has(st.Sid), `${w}: duplicate Sid`); sids.add(st.Sid); }
    assert.ok(['Allow', 'Deny'].includes(st.Effect), `${w}: Effect`);
    const actions = asList(st.Action);
    assert.ok(actions.length > 0, `${w}: Action`);
    assert.equal(st.NotAction, undefined, `${w}: no NotAction`);
    for (const a of actions) assert.match(a, /^[a-z0-9-]+:[A-Za-z0-9]+$/, `${w}: action "${a}" is a single named action, no wildcard`);
    if (st.Effect !== 'Allow') continue;
    const isTrust = actions.every((a) => a.startsWith('sts:AssumeRole'));
    if (isTrust) {
      assert.ok(st.Principal && st.Principal.Service, `${w}: trust policy names a service principal`);
      assert.equal(st.Resource, undefined, `${w}: trust policy has no Resource`);
      continue;
    }
    if (st.Principal !== undefined) assert.notEqual(st.Principal, '*', `${w}: Allow to everyone`);
    const resources = asList(st.Resource);
    assert.ok(resources.length > 0, `${w}: Resource`);
    for (const r of resources) {
      if (r === '*') {
        for (const a of actions) assert.ok(STAR_RESOURCE_OK.has(a), `${w}: "${a}" on Resource "*"`);
      } else {
        assert.match(r, ARN_RE, `${w}: resource ${r} is an ARN`);
        assert.doesNotMatch(r.replace(/:log-stream:\*$|\/\*$/, ''), /\*/, `${w}: wildcard inside ${r}`);
      }
    }
  }
}

function checkContainers(defs, where, vars) {
  assert.ok(Array.isArray(defs) && defs.length > 0, `${where}: array of container definitions`);
  for (const c of defs) {
    const w = `${where} ${c.name}`;
    for (const k of ['name', 'image', 'essential', 'logConfiguration', 'healthCheck', 'user'])
      assert.ok(c[k] !== undefined, `${w}: ${k}`);
    assert.match(c.image, /:[A-Za-z0-9._-]+$/, `${w}: image has a tag`);
    assert.doesNotMatch(c.image, /:latest$/, `${w}: no :latest`);
    assert.match(vars.image || '', /\$\{aws_ecr_repository\.|local\.(cpu|gpu)_image/, `${w}: image comes from our ECR repository`);
    assert.ok(!/^(0|root)(:|$)/.test(c.user), `${w}: non-root user`);
    assert.equal(c.readonlyRootFilesystem, true, `${w}: read-only root filesystem`);
    assert.equal(c.privileged, undefined, `${w}: not privileged`);
    const lc = c.logConfiguration;
    assert.equal(lc.logDriver, 'awslogs', `${w}: awslogs`);
    for (const k of ['awslogs-group', 'awslogs-region', 'awslogs-stream-prefix']) assert.ok(lc.options[k], `${w}: log option ${k}`);
    assert.equal(lc.secretOptions, undefined, `${w}: no secrets in log options`);
    assert.ok(c.healthCheck.command.join(' ').includes('/healthz'), `${w}: health check on /healthz`);
    assert.ok(Array.isArray(c.command) && c.command[0] === 'serve', `${w}: runs volsurf serve`);
    assert.ok(c.command.includes('--metrics-emf'), `${w}: EMF metrics on stdout`);

    const env = c.environment || [];
    const names = new Set();
    for (const e of env) {
      assert.deepEqual(Object.keys(e).sort(), ['name', 'value'], `${w}: environment entry shape`);
      assert.equal(typeof e.value, 'string', `${w}: ${e.name} value is a string`);
      assert.doesNotMatch(e.name, SECRETISH, `${w}: ${e.name} looks like a credential: use secrets`);
      assert.doesNotMatch(e.value, /^(AKIA|ASIA)[A-Z0-9]{16}$|-----BEGIN/, `${w}: ${e.name} holds key material`);
      assert.ok(!names.has(e.name), `${w}: duplicate ${e.name}`);
      names.add(e.name);
    }
    for (const s of c.secrets || []) {
      assert.deepEqual(Object.keys(s).sort(), ['name', 'valueFrom'], `${w}: secrets entry shape`);
      assert.match(s.valueFrom, /^arn:aws[a-z-]*:(secretsmanager|ssm):/, `${w}: ${s.name} valueFrom is a Secrets Manager / SSM ARN`);
      assert.ok(!names.has(s.name), `${w}: ${s.name} both in environment and secrets, or twice`);
      names.add(s.name);
    }
    for (const p of c.portMappings || []) assert.equal(p.containerPort, 8080, `${w}: container port`);
    if (c.cpu !== undefined) assert.equal(typeof c.cpu, 'number');
    if (c.memory !== undefined) assert.equal(typeof c.memory, 'number');
  }
}

// ------------------------------------------------------------ tests

const TEMPLATES = walk(TF_ROOT, (n) => n.endsWith('.json.tftpl'));

test('there are templates to check', () => {
  assert.ok(TEMPLATES.length >= 8, `found ${TEMPLATES.length}`);
});

test('every template is used, with exactly its placeholders as variables', async () => {
  const calls = await templateCalls();
  for (const t of TEMPLATES) {
    const uses = calls.filter((c) => c.template === t);
    assert.ok(uses.length > 0, `${path.relative(TF_ROOT, t)} is never rendered`);
    const want = placeholders(fs.readFileSync(t, 'utf8'));
    for (const u of uses) {
      assert.deepEqual(Object.keys(u.vars).sort(), want, `${path.relative(TF_ROOT, u.tf)} -> ${path.basename(t)} variables`);
      for (const [k, expr] of Object.entries(u.vars))
        if (k.endsWith('_arn')) assert.match(expr, /arn/, `${path.relative(TF_ROOT, u.tf)}: ${k} = ${expr} should be an ARN reference`);
    }
  }
  for (const c of calls) assert.ok(fs.existsSync(c.template), `${c.tf}: ${c.template} exists`);
});

test('every template renders to valid JSON', () => {
  for (const t of TEMPLATES) assert.doesNotThrow(() => render(fs.readFileSync(t, 'utf8')), path.relative(TF_ROOT, t));
});

test('IAM policies are well formed and least privilege', () => {
  let n = 0;
  for (const t of TEMPLATES) {
    const doc = render(fs.readFileSync(t, 'utf8'));
    if (doc && doc.Statement) { checkPolicy(doc, path.relative(TF_ROOT, t)); n++; }
  }
  assert.ok(n >= 5, `checked ${n} policies`);
});

test('container definitions are well formed and keep credentials out of environment', async () => {
  const calls = await templateCalls();
  let n = 0;
  for (const t of TEMPLATES) {
    const doc = render(fs.readFileSync(t, 'utf8'));
    if (!Array.isArray(doc)) continue;
    const call = calls.find((c) => c.template === t);
    checkContainers(doc, path.relative(TF_ROOT, t), call.vars);
    n++;
  }
  assert.equal(n, 4, 'volsurf (single); gateway, ingest, calibrator (split)');
});

test('only ingest receives exchange credentials', () => {
  const dir = path.join(TF_ROOT, 'modules', 'ecs', 'templates');
  for (const role of ['volsurf', 'gateway', 'calibrator']) {
    const [c] = render(fs.readFileSync(path.join(dir, `${role}.json.tftpl`), 'utf8'));
    for (const s of c.secrets || []) assert.doesNotMatch(s.valueFrom, /secretsmanager/, `${role} reads ${s.name}`);
  }
  const [ingest] = render(fs.readFileSync(path.join(dir, 'ingest.json.tftpl'), 'utf8'));
  const venues = new Set(ingest.secrets.filter((s) => /secretsmanager/.test(s.valueFrom)).map((s) => s.name.split('_')[1]));
  assert.deepEqual([...venues].sort(), ['BINANCE', 'BYBIT', 'DERIBIT', 'OKX']);
  for (const s of ingest.secrets.filter((x) => /secretsmanager/.test(x.valueFrom)))
    assert.match(s.valueFrom, /:secret:[^:]+:[a-z_]+::$/, `${s.name}: picks one JSON key of the secret`);
});

test('the calibrator asks ECS for a GPU', () => {
  const [c] = render(fs.readFileSync(path.join(TF_ROOT, 'modules', 'ecs', 'templates', 'calibrator.json.tftpl'), 'utf8'));
  assert.deepEqual(c.resourceRequirements, [{ type: 'GPU', value: '1' }]);
});

test('terraform keeps secret values out of code and state', () => {
  for (const tf of walk(TF_ROOT, (n) => /\.(tf|tfvars)$/.test(n))) {
    const text = fs.readFileSync(tf, 'utf8');
    const rel = path.relative(TF_ROOT, tf);
    assert.doesNotMatch(text, /resource\s+"aws_secretsmanager_secret_version"/, `${rel}: secret values are set out of band`);
    assert.doesNotMatch(text, /type\s*=\s*"SecureString"/, `${rel}: no SecureString values in terraform`);
    assert.doesNotMatch(text, /(AKIA|ASIA)[A-Z0-9]{16}|aws_secret_access_key|-----BEGIN [A-Z ]*PRIVATE KEY/, `${rel}: key material`);
    assert.doesNotMatch(text, /container_definitions\s*=\s*jsonencode/, `${rel}: container definitions come from validated templates`);
  }
});

test('managed policies attached are the expected AWS ones', () => {
  const allowed = new Set(['service-role/AmazonEC2ContainerServiceforEC2Role', 'AmazonSSMManagedInstanceCore']);
  for (const tf of walk(TF_ROOT, (n) => n.endsWith('.tf'))) {
    for (const m of fs.readFileSync(tf, 'utf8').matchAll(/policy_arn\s*=\s*"arn:\$\{[^}]+\}:iam::aws:policy\/([^"]+)"/g))
      assert.ok(allowed.has(m[1]), `${path.relative(TF_ROOT, tf)}: managed policy ${m[1]}`);
    assert.doesNotMatch(fs.readFileSync(tf, 'utf8'), /AdministratorAccess|PowerUserAccess|FullAccess/, tf);
  }
});

test('the dashboard CSP allows wss only to the API host', () => {
  const tf = fs.readFileSync(path.join(TF_ROOT, 'modules', 'static_site', 'main.tf'), 'utf8');
  assert.match(tf, /"connect-src 'self' wss:\/\/\$\{var\.api_host\} https:\/\/\$\{var\.api_host\}"/);
  assert.match(tf, /"frame-ancestors 'none'"/);
  for (const h of ['strict_transport_security', 'content_security_policy', 'content_type_options', 'frame_options', 'referrer_policy'])
    assert.match(tf, new RegExp(`${h} \\{`), h);
});

test('the checks themselves reject bad documents', () => {
  const good = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['logs:PutLogEvents'], Resource: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/x:log-stream:*`] }] };
  assert.doesNotThrow(() => checkPolicy(good, 'good'));
  const bad = (st) => ({ Version: '2012-10-17', Statement: [st] });
  assert.throws(() => checkPolicy(bad({ Effect: 'Allow', Action: '*', Resource: '*' }), 'star'));
  assert.throws(() => checkPolicy(bad({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }), 'service star'));
  assert.throws(() => checkPolicy(bad({ Effect: 'Allow', Action: 's3:Get*', Resource: 'arn:aws:s3:::b/*' }), 'prefix star'));
  assert.throws(() => checkPolicy(bad({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }), 'star resource'));
  assert.throws(() => checkPolicy(bad({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:*` }), 'wildcard arn'));
  assert.throws(() => checkPolicy({ Statement: good.Statement }, 'no version'));

  const base = () => JSON.parse(JSON.stringify(render(fs.readFileSync(path.join(TF_ROOT, 'modules', 'ecs', 'templates', 'gateway.json.tftpl'), 'utf8'))));
  const vars = { image: '${local.cpu_image}' };
  assert.doesNotThrow(() => checkContainers(base(), 'good', vars));
  const withEnv = base(); withEnv[0].environment.push({ name: 'VOLSURF_DERIBIT_API_SECRET', value: 'hunter2' });
  assert.throws(() => checkContainers(withEnv, 'secret in env', vars));
  const plainRef = base(); plainRef[0].secrets.push({ name: 'X', valueFrom: 'volsurf/deribit' });
  assert.throws(() => checkContainers(plainRef, 'secret by name', vars));
  const root = base(); root[0].user = '0';
  assert.throws(() => checkContainers(root, 'root', vars));
  const latest = base(); latest[0].image = 'volsurf:latest';
  assert.throws(() => checkContainers(latest, 'latest', vars));
});

// ------------------------------------------------------------ the service contract
// host/cmd_serve.c is the source of truth for names: the VOLSURF_* table it
// reads, its flags, and the --role values its usage lists.

const REPO = path.join(TF_ROOT, '..');
const SERVE_C = fs.readFileSync(path.join(REPO, 'host', 'cmd_serve.c'), 'utf8');
const SERVE_ENV = new Set([...SERVE_C.matchAll(/\{"(VOLSURF_[A-Z_]+)", "[a-z-]+"\}/g)].map((m) => m[1]));
for (const m of SERVE_C.matchAll(/getenv\("(VOLSURF_[A-Z_]+)"\)/g)) SERVE_ENV.add(m[1]);
const SERVE_FLAGS = new Set([...SERVE_C.matchAll(/strcmp\(key, "([a-z-]+)"\)/g)].map((m) => `--${m[1]}`));
for (const m of SERVE_C.matchAll(/strcmp\(a, "(--[a-z-]+)"\)/g)) SERVE_FLAGS.add(m[1]);
const SERVE_ROLES = /\[--role ([a-z|]+)\]/.exec(SERVE_C)[1].split('|');
// Names of the split topology's contract that no binary reads yet: the Kafka
// roles will (docs/deploy.md "Topology and the service contract").
const SPLIT_ONLY = /^VOLSURF_(KAFKA_BROKERS|(DERIBIT|OKX|BYBIT|BINANCE)_(API_KEY|API_SECRET|PASSPHRASE))$/;

const containers = (name) => render(fs.readFileSync(path.join(TF_ROOT, 'modules', 'ecs', 'templates', `${name}.json.tftpl`), 'utf8'));
const envOf = (c) => Object.fromEntries((c.environment || []).map((e) => [e.name, e.value]));

test('the contract tables were read from host/cmd_serve.c', () => {
  for (const n of ['VOLSURF_PORT', 'VOLSURF_VENUES', 'VOLSURF_FIT_BACKEND', 'VOLSURF_ALLOWED_ORIGIN', 'VOLSURF_METRICS_EMF',
    'VOLSURF_METRICS_NAMESPACE', 'VOLSURF_ENV', 'VOLSURF_STATIC_DIR', 'VOLSURF_LOG_LEVEL', 'VOLSURF_ROLE'])
    assert.ok(SERVE_ENV.has(n), n);
  for (const f of ['--port', '--role', '--metrics-emf', '--venues', '--static']) assert.ok(SERVE_FLAGS.has(f), f);
  assert.deepEqual(SERVE_ROLES, ['all', 'ingest', 'calibrate', 'gateway']);
});

test('container definitions use only the flags and VOLSURF_* names volsurf serve parses', () => {
  for (const name of ['volsurf', 'gateway', 'ingest', 'calibrator']) {
    for (const c of containers(name)) {
      const cmd = c.command;
      assert.equal(cmd[0], 'serve', name);
      for (let i = 1; i < cmd.length; i++) {
        assert.ok(SERVE_FLAGS.has(cmd[i]), `${name}: flag ${cmd[i]} is one cmd_serve parses`);
        if (cmd[i] !== '--metrics-emf') i++; // every other flag takes a value
      }
      const role = cmd[cmd.indexOf('--role') + 1];
      assert.ok(SERVE_ROLES.includes(role), `${name}: --role ${role}`);
      for (const e of c.environment || []) assert.ok(SERVE_ENV.has(e.name), `${name}: ${e.name} is not read by volsurf serve`);
      for (const s of c.secrets || []) assert.match(s.name, SPLIT_ONLY, `${name}: secret ${s.name}`);
      assert.equal(c.portMappings[0].containerPort, Number(envOf(c).VOLSURF_PORT), `${name}: VOLSURF_PORT is the mapped port`);
    }
  }
});

test('single topology: one container runs serve --role all on live venues, with no secrets', async () => {
  const [c] = containers('volsurf');
  assert.deepEqual(c.command, ['serve', '--role', 'all', '--metrics-emf']);
  assert.equal(c.secrets, undefined, 'volsurf serve reads no credential: nothing to inject');
  const env = envOf(c);
  assert.equal(env.VOLSURF_VENUES, SAMPLES.venues);
  assert.equal(env.VOLSURF_FIT_BACKEND, 'auto');
  assert.equal(env.VOLSURF_STATIC_DIR, SAMPLES.static_dir);
  assert.ok(env.VOLSURF_ALLOWED_ORIGIN && env.VOLSURF_METRICS_NAMESPACE && env.VOLSURF_ENV);
  assert.deepEqual(c.mountPoints, [{ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false }], 'writable /tmp only');
  const call = (await templateCalls()).find((x) => x.template.endsWith('volsurf.json.tftpl'));
  assert.equal(call.vars.venues, 'var.venues');
  assert.equal(call.vars.fit_backend, 'var.fit_backend');
});

test('split topology: each service runs its own --role, and only there Kafka and credentials appear', () => {
  const want = { gateway: 'gateway', ingest: 'ingest', calibrator: 'calibrate' };
  for (const [name, role] of Object.entries(want)) {
    const [c] = containers(name);
    assert.deepEqual(c.command, ['serve', '--role', role, '--metrics-emf'], name);
    assert.ok((c.secrets || []).some((s) => s.name === 'VOLSURF_KAFKA_BROKERS'), `${name}: brokers from SSM`);
  }
  assert.equal(envOf(containers('calibrator')[0]).VOLSURF_FIT_BACKEND, 'gpu');
  assert.ok(envOf(containers('gateway')[0]).VOLSURF_STATIC_DIR, 'gateway serves the dashboard too');
});

test('the contract checks reject a name volsurf does not read', () => {
  assert.ok(!SERVE_ENV.has('VOLSURF_BACKEND'), 'the env name is VOLSURF_FIT_BACKEND');
  assert.ok(!SERVE_FLAGS.has('--fit-backend'), 'the flag is --backend');
  assert.ok(!SERVE_ROLES.includes('calibrator'), 'the role is calibrate');
});
