# Least privilege, one pair of roles per service:
#   execution role  (used by the ECS agent before the container starts): pull
#                   this service's image, write this service's log group;
#                   in split also read the Kafka brokers parameter, and
#                   ingest alone the exchange secrets.  The single
#                   topology's task reads no parameter and no secret:
#                   volsurf reads no credential (public market data only).
#   task role       (used by the process): no permissions at all.  volsurf
#                   publishes metrics as EMF on stdout (and, in split, talks
#                   to Kafka over TLS inside the VPC), so it needs no AWS API.

locals {
  ecs_assume_role = templatefile("${path.module}/templates/ecs_tasks_assume_role.json.tftpl", {
    account_id = local.account_id
    partition  = local.partition
    region     = local.region
  })
  role_repository_arn = {
    volsurf    = aws_ecr_repository.cpu.arn
    gateway    = aws_ecr_repository.cpu.arn
    ingest     = aws_ecr_repository.cpu.arn
    calibrator = aws_ecr_repository.gpu.arn
  }
}

resource "aws_iam_role" "execution" {
  for_each           = local.roles
  name_prefix        = "${substr(var.name, 0, 20)}-${substr(each.key, 0, 4)}-exec-"
  description        = "ECS agent for ${var.name} ${each.key}: image pull, logs, secrets"
  assume_role_policy = local.ecs_assume_role
  tags               = var.tags
}

resource "aws_iam_role_policy" "execution" {
  for_each = local.split ? local.roles : toset([])
  name     = "pull-log-config"
  role     = aws_iam_role.execution[each.key].id
  policy = templatefile("${path.module}/templates/execution_role.json.tftpl", {
    repository_arn          = local.role_repository_arn[each.key]
    log_group_arn           = aws_cloudwatch_log_group.role[each.key].arn
    kafka_brokers_param_arn = var.kafka_brokers_param_arn
  })
}

resource "aws_iam_role_policy" "execution_single" {
  for_each = local.split ? toset([]) : local.roles
  name     = "pull-log"
  role     = aws_iam_role.execution[each.key].id
  policy = templatefile("${path.module}/templates/execution_role_single.json.tftpl", {
    repository_arn = local.role_repository_arn[each.key]
    log_group_arn  = aws_cloudwatch_log_group.role[each.key].arn
  })
}

resource "aws_iam_role_policy" "ingest_secrets" {
  count = local.split ? 1 : 0
  name  = "read-exchange-credentials"
  role  = aws_iam_role.execution["ingest"].id
  policy = templatefile("${path.module}/templates/read_exchange_secrets.json.tftpl", {
    deribit_secret_arn = var.exchange_secret_arns["deribit"]
    okx_secret_arn     = var.exchange_secret_arns["okx"]
    bybit_secret_arn   = var.exchange_secret_arns["bybit"]
    binance_secret_arn = var.exchange_secret_arns["binance"]
  })
}

resource "aws_iam_role" "task" {
  for_each           = local.roles
  name_prefix        = "${substr(var.name, 0, 20)}-${substr(each.key, 0, 4)}-task-"
  description        = "volsurf ${each.key} process: deliberately no AWS permissions"
  assume_role_policy = local.ecs_assume_role
  tags               = var.tags
}

# GPU container instances: the AWS-managed ECS instance policy (register
# with the cluster, agent telemetry) and SSM Session Manager instead of SSH.
resource "aws_iam_role" "gpu_instance" {
  count              = local.split ? 1 : 0
  name_prefix        = "${substr(var.name, 0, 20)}-gpu-node-"
  description        = "ECS container instances of the GPU capacity provider"
  assume_role_policy = templatefile("${path.module}/templates/ec2_assume_role.json.tftpl", {})
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "gpu_instance_ecs" {
  count      = local.split ? 1 : 0
  role       = aws_iam_role.gpu_instance[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

resource "aws_iam_role_policy_attachment" "gpu_instance_ssm" {
  count      = local.split ? 1 : 0
  role       = aws_iam_role.gpu_instance[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "gpu_instance" {
  count       = local.split ? 1 : 0
  name_prefix = "${substr(var.name, 0, 20)}-gpu-node-"
  role        = aws_iam_role.gpu_instance[0].name
  tags        = var.tags
}
