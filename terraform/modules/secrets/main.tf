# Exchange credentials: one Secrets Manager secret per venue, created EMPTY.
# Terraform never sees a credential (nothing in code, plan or state): an
# operator writes the value once with
#   aws secretsmanager put-secret-value --secret-id <name>/exchange/deribit \
#     --secret-string '{"api_key":"...","api_secret":"..."}'
# ECS reads them at task start through the execution role and hands them to
# the ingest container as environment variables (task definition `secrets`),
# so they are absent from the task definition, the console and the logs.
#
# Non-secret settings (venue list, Kafka brokers) go to SSM String
# parameters and reach the containers the same way, so a change needs only a
# new deployment, not a new task definition.

resource "aws_secretsmanager_secret" "exchange" {
  for_each                = toset(var.venues)
  name                    = "${var.name}/exchange/${each.key}"
  description             = "${each.key} API credentials for volsurf ingest (JSON: api_key, api_secret, passphrase)"
  recovery_window_in_days = var.recovery_window_days
  tags                    = merge(var.tags, { Venue = each.key })
}

resource "aws_ssm_parameter" "config" {
  for_each    = var.config
  name        = "/${var.name}/config/${each.key}"
  description = "volsurf runtime setting ${each.key}"
  type        = "String"
  value       = each.value
  tags        = var.tags
}
