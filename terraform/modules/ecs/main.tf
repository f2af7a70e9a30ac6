# ECS: one cluster running the volsurf binary in one of two topologies.
#
# topology = "single" (default; the only one volsurf runs today):
#   volsurf    Fargate, behind the ALB, `volsurf serve --role all`: live
#              feeds, CPU calibration and the websocket gateway in one
#              process; autoscaled on CPU, ALB requests and sockets.  Each
#              task runs its own feeds and calibration, so any task serves a
#              full snapshot and a reconnect may land anywhere.
#
# topology = "split" (the scale-out topology of DESIGN.md; needs the Kafka
# roles, which `volsurf serve` does not have yet: --role ingest|calibrate|
# gateway exits 2):
#   gateway    Fargate, behind the ALB, autoscaled (CPU, ALB requests, sockets)
#   ingest     Fargate, exchange websockets -> Kafka
#   calibrator EC2 GPU capacity provider (ECS GPU AMI, launch template, ASG,
#              managed scaling); one task = one GPU
#
# Images live in two immutable-tag ECR repositories (the GPU one is used by
# split only); a rollout is a new tag.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  split      = var.topology == "split"
  # ECS service name -> the `--role` value it runs (also the EMF Role
  # dimension of its metrics, host/metrics.c).
  service_roles = local.split ? {
    gateway    = "gateway"
    ingest     = "ingest"
    calibrator = "calibrate"
  } : { volsurf = "all" }
  roles      = toset(keys(local.service_roles))
  fargate_cp = var.use_fargate_spot ? "FARGATE_SPOT" : "FARGATE"
}

# ---------------------------------------------------------------- images

resource "aws_ecr_repository" "cpu" {
  name                 = "${var.name}/volsurf"
  image_tag_mutability = "IMMUTABLE"
  tags                 = var.tags

  image_scanning_configuration {
    scan_on_push = true
  }
}

resource "aws_ecr_repository" "gpu" {
  name                 = "${var.name}/volsurf-gpu"
  image_tag_mutability = "IMMUTABLE"
  tags                 = var.tags

  image_scanning_configuration {
    scan_on_push = true
  }
}

resource "aws_ecr_lifecycle_policy" "cpu" {
  repository = aws_ecr_repository.cpu.name
  policy     = templatefile("${path.module}/templates/ecr_lifecycle.json.tftpl", { keep_images = var.keep_images })
}

resource "aws_ecr_lifecycle_policy" "gpu" {
  repository = aws_ecr_repository.gpu.name
  policy     = templatefile("${path.module}/templates/ecr_lifecycle.json.tftpl", { keep_images = var.keep_images })
}

# ---------------------------------------------------------------- logs

resource "aws_cloudwatch_log_group" "role" {
  for_each          = local.roles
  name              = "/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  tags              = merge(var.tags, { Role = each.key })
}

# ---------------------------------------------------------------- cluster

resource "aws_ecs_cluster" "this" {
  name = var.name
  tags = var.tags

  setting {
    name  = "containerInsights"
    value = var.container_insights
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = concat(["FARGATE", "FARGATE_SPOT"], aws_ecs_capacity_provider.gpu[*].name)

  default_capacity_provider_strategy {
    capacity_provider = local.fargate_cp
    weight            = 1
  }
}

# ---------------------------------------------------------------- networking

resource "aws_security_group" "tasks" {
  name_prefix = "${var.name}-tasks-"
  description = "volsurf tasks: the ALB reaches the gateway port; egress to the exchanges (and Kafka in split)"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-tasks" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "ALB to gateway"
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
  referenced_security_group_id = var.alb_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "https_out" {
  security_group_id = aws_security_group.tasks.id
  description       = "Exchanges, ECR, Secrets Manager, SSM, CloudWatch (HTTPS/WSS)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# OKX serves its public websocket on 8443 (feeds/venue.c).
resource "aws_vpc_security_group_egress_rule" "okx_wss_out" {
  security_group_id = aws_security_group.tasks.id
  description       = "OKX public websocket (wss://ws.okx.com:8443)"
  ip_protocol       = "tcp"
  from_port         = 8443
  to_port           = 8443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "kafka_out" {
  count             = local.split ? 1 : 0
  security_group_id = aws_security_group.tasks.id
  description       = "Kafka brokers (TLS) inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 9094
  to_port           = 9094
  cidr_ipv4         = data.aws_vpc.this.cidr_block
}

data "aws_vpc" "this" {
  id = var.vpc_id
}
