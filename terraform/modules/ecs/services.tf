# Task definitions are rendered from JSON templates (templates/*.json.tftpl)
# so CI can validate them without terraform; see
# terraform/tests/templates.test.js.  Every deployment uses the circuit
# breaker with rollback: a task set that never turns healthy is replaced by
# the previous one automatically.

locals {
  cpu_image = "${aws_ecr_repository.cpu.repository_url}:${var.image_tag}"
  gpu_image = "${aws_ecr_repository.gpu.repository_url}:${var.gpu_image_tag}"
}

# ---------------------------------------------------------------- single

# `volsurf serve --role all` on Fargate CPU.  Not on the GPU capacity
# provider: every task runs its own calibration, so scaling the websocket
# tier would buy one GPU instance per task; a live universe is a few hundred
# slices per 100 ms cadence, which the CPU fitter handles in milliseconds
# (bench/results/cpu_vs_lmder.md: ~130 000 fits/s per thread), where a GPU's
# launch and copy overhead buys nothing.  The CPU image has no CUDA, so
# VOLSURF_FIT_BACKEND=auto means the CPU fitter on all vCPUs of the task.
resource "aws_ecs_task_definition" "volsurf" {
  count                    = local.split ? 0 : 1
  family                   = "${var.name}-volsurf"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.serve_cpu
  memory                   = var.serve_memory
  execution_role_arn       = aws_iam_role.execution["volsurf"].arn
  task_role_arn            = aws_iam_role.task["volsurf"].arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The root filesystem is read-only; /tmp is the task's scratch space.
  volume {
    name = "tmp"
  }

  container_definitions = templatefile("${path.module}/templates/volsurf.json.tftpl", {
    image             = local.cpu_image
    port              = var.container_port
    venues            = var.venues
    fit_backend       = var.fit_backend
    allowed_origin    = var.allowed_origin
    static_dir        = var.static_dir
    environment       = var.environment
    metrics_namespace = var.metrics_namespace
    log_level         = var.log_level
    log_group         = aws_cloudwatch_log_group.role["volsurf"].name
    region            = local.region
  })
}

resource "aws_ecs_service" "volsurf" {
  count                             = local.split ? 0 : 1
  name                              = "volsurf"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.volsurf[0].arn
  desired_count                     = var.serve_min_count
  health_check_grace_period_seconds = 60
  enable_execute_command            = false
  wait_for_steady_state             = true
  propagate_tags                    = "SERVICE"
  tags                              = var.tags

  # Rolling, new tasks healthy before old ones drain.  Tasks are
  # independent (each has its own feeds and calibration), so two revisions
  # side by side are harmless; clients of a draining task reconnect and
  # resnapshot from any other.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  capacity_provider_strategy {
    capacity_provider = local.fargate_cp
    weight            = 1
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "volsurf"
    container_port   = var.container_port
  }

  lifecycle {
    ignore_changes = [desired_count] # owned by application autoscaling
  }

  depends_on = [aws_ecs_cluster_capacity_providers.this]
}

# ---------------------------------------------------------------- split
# The containers below run `serve --role gateway|ingest|calibrate` and read
# VOLSURF_KAFKA_BROKERS: that is the contract the Kafka roles must meet when
# they land (today those roles exit 2).

resource "aws_ecs_task_definition" "gateway" {
  count                    = local.split ? 1 : 0
  family                   = "${var.name}-gateway"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.gateway_cpu
  memory                   = var.gateway_memory
  execution_role_arn       = aws_iam_role.execution["gateway"].arn
  task_role_arn            = aws_iam_role.task["gateway"].arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = templatefile("${path.module}/templates/gateway.json.tftpl", {
    image                   = local.cpu_image
    port                    = var.container_port
    environment             = var.environment
    metrics_namespace       = var.metrics_namespace
    allowed_origin          = var.allowed_origin
    static_dir              = var.static_dir
    log_level               = var.log_level
    kafka_brokers_param_arn = var.kafka_brokers_param_arn
    log_group               = aws_cloudwatch_log_group.role["gateway"].name
    region                  = local.region
  })
}

resource "aws_ecs_task_definition" "ingest" {
  count                    = local.split ? 1 : 0
  family                   = "${var.name}-ingest"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.ingest_cpu
  memory                   = var.ingest_memory
  execution_role_arn       = aws_iam_role.execution["ingest"].arn
  task_role_arn            = aws_iam_role.task["ingest"].arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = templatefile("${path.module}/templates/ingest.json.tftpl", {
    image                   = local.cpu_image
    port                    = var.container_port
    environment             = var.environment
    metrics_namespace       = var.metrics_namespace
    venues                  = var.venues
    log_level               = var.log_level
    kafka_brokers_param_arn = var.kafka_brokers_param_arn
    deribit_secret_arn      = var.exchange_secret_arns["deribit"]
    okx_secret_arn          = var.exchange_secret_arns["okx"]
    bybit_secret_arn        = var.exchange_secret_arns["bybit"]
    binance_secret_arn      = var.exchange_secret_arns["binance"]
    log_group               = aws_cloudwatch_log_group.role["ingest"].name
    region                  = local.region
  })
}

resource "aws_ecs_task_definition" "calibrator" {
  count                    = local.split ? 1 : 0
  family                   = "${var.name}-calibrator"
  requires_compatibilities = ["EC2"]
  network_mode             = "awsvpc"
  execution_role_arn       = aws_iam_role.execution["calibrator"].arn
  task_role_arn            = aws_iam_role.task["calibrator"].arn
  tags                     = var.tags

  container_definitions = templatefile("${path.module}/templates/calibrator.json.tftpl", {
    image                   = local.gpu_image
    port                    = var.container_port
    environment             = var.environment
    metrics_namespace       = var.metrics_namespace
    memory_mib              = var.calibrator_memory_mib
    gpus                    = var.calibrator_gpus
    log_level               = var.log_level
    kafka_brokers_param_arn = var.kafka_brokers_param_arn
    log_group               = aws_cloudwatch_log_group.role["calibrator"].name
    region                  = local.region
  })
}

resource "aws_ecs_service" "gateway" {
  count                             = local.split ? 1 : 0
  name                              = "gateway"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.gateway[0].arn
  desired_count                     = var.gateway_min_count
  health_check_grace_period_seconds = 30
  enable_execute_command            = false
  wait_for_steady_state             = true
  propagate_tags                    = "SERVICE"
  tags                              = var.tags

  # Rolling: new gateways come up (200%) before old ones drain, so capacity
  # never dips; old sockets close after the target group's deregistration
  # delay and clients reconnect with backoff and resnapshot.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  capacity_provider_strategy {
    capacity_provider = local.fargate_cp
    weight            = 1
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "gateway"
    container_port   = var.container_port
  }

  lifecycle {
    ignore_changes = [desired_count] # owned by application autoscaling
  }

  depends_on = [aws_ecs_cluster_capacity_providers.this]
}

resource "aws_ecs_service" "ingest" {
  count                  = local.split ? 1 : 0
  name                   = "ingest"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.ingest[0].arn
  desired_count          = var.ingest_min_count
  enable_execute_command = false
  wait_for_steady_state  = true
  propagate_tags         = "SERVICE"
  tags                   = var.tags

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  capacity_provider_strategy {
    capacity_provider = local.fargate_cp
    weight            = 1
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_ecs_cluster_capacity_providers.this]
}

resource "aws_ecs_service" "calibrator" {
  count                  = local.split ? 1 : 0
  name                   = "calibrator"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.calibrator[0].arn
  desired_count          = var.calibrator_count
  enable_execute_command = false
  propagate_tags         = "SERVICE"
  tags                   = var.tags

  # One writer per surface: the old calibrator stops before the new one
  # starts (surfaces go stale for the restart, and say so), instead of two
  # calibrators interleaving sequence numbers on the surfaces topic.
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.gpu[0].name
    weight            = 1
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  ordered_placement_strategy {
    type  = "binpack"
    field = "memory"
  }

  depends_on = [aws_ecs_cluster_capacity_providers.this]
}
