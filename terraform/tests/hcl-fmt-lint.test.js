// Tests terraform/tools/hcl-fmt-lint.js, the offline `terraform fmt -check`
// stand-in: it must accept terraform-fmt output and reject what fmt would
// rewrite.  (Cases were cross-checked against terraform fmt 1.11.)
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { lintText } = require('../tools/hcl-fmt-lint.js');

const FORMATTED = `resource "aws_s3_bucket" "site" {
  bucket        = "x"
  force_destroy = true
  policy = templatefile("\${path.module}/p.json.tftpl", {
    bucket_arn = aws_s3_bucket.site.arn
    n          = 1
  })
  tags = { Name = "x" }
  # comment breaks an alignment run
  a = 1

  rule {
    id = "r"
  }
  user_data = base64encode(<<-EOT
      anything {{ goes   =  here
  EOT
  )
  list = [
    "a",
    "b",
  ]
}
`;

test('terraform fmt output passes', () => {
  assert.deepEqual(lintText(FORMATTED), []);
});

const broken = (from, to) => lintText(FORMATTED.replace(from, to));

test('misaligned equals signs are reported', () => {
  assert.equal(broken('bucket        = "x"', 'bucket = "x"').length, 1);
});

test('extra space around a lone equals sign is reported', () => {
  assert.ok(broken('  a = 1', '  a  = 1').length > 0);
  assert.ok(broken('  a = 1', '  a =  1').length > 0);
  assert.ok(broken('  policy = templatefile', '  policy  = templatefile').length > 0);
});

test('wrong indentation is reported', () => {
  assert.ok(broken('    id = "r"', '   id = "r"').length > 0);
  assert.ok(broken('    "a",', '      "a",').length > 0);
  assert.ok(broken('  })', '    })').length > 0);
});

test('whitespace hygiene is enforced', () => {
  assert.ok(broken('  a = 1', '  a = 1 ').length > 0, 'trailing space');
  assert.ok(broken('  a = 1', '\ta = 1').length > 0, 'tab');
  assert.ok(broken('\n\n  rule {', '\n\n\n  rule {').length > 0, 'double blank');
  assert.ok(lintText(FORMATTED.trimEnd()).length > 0, 'missing final newline');
  assert.ok(lintText(FORMATTED.replace(/\n/g, '\r\n')).length > 0, 'CRLF');
});

test('heredoc bodies are not linted', () => {
  assert.deepEqual(broken('anything {{ goes   =  here', '\tfree   text  '), []);
});
