# GPU capacity for the calibrator (topology = "split" only; count = 0 in
# single, which fits on the Fargate CPU): ECS GPU-optimized AMI (NVIDIA driver and
# container toolkit preinstalled) resolved through its public SSM parameter,
# a launch template, an ASG owned by ECS managed scaling.  Instances sit in
# private subnets, IMDSv2 only, no SSH (Session Manager instead).

data "aws_ssm_parameter" "gpu_ami" {
  count = local.split ? 1 : 0
  name  = var.gpu_ami_ssm_parameter
}

resource "aws_security_group" "gpu_instances" {
  count       = local.split ? 1 : 0
  name_prefix = "${var.name}-gpu-node-"
  description = "GPU container instances: egress only (ECS, ECR, SSM endpoints)"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-gpu-node" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "gpu_https_out" {
  count             = local.split ? 1 : 0
  security_group_id = aws_security_group.gpu_instances[0].id
  description       = "ECS agent, ECR, SSM, CloudWatch"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_launch_template" "gpu" {
  count                  = local.split ? 1 : 0
  name_prefix            = "${var.name}-gpu-"
  image_id               = data.aws_ssm_parameter.gpu_ami[0].insecure_value
  instance_type          = var.gpu_instance_type
  vpc_security_group_ids = [aws_security_group.gpu_instances[0].id]
  update_default_version = true
  tags                   = var.tags

  iam_instance_profile {
    arn = aws_iam_instance_profile.gpu_instance[0].arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = 60
      volume_type           = "gp3"
      encrypted             = "true"
      delete_on_termination = "true"
    }
  }

  monitoring {
    enabled = true
  }

  # ECS_AWSVPC_BLOCK_IMDS: tasks get credentials from the agent, never from
  # the instance role.
  user_data = base64encode(<<-EOT
    #!/bin/bash
    cat >>/etc/ecs/ecs.config <<'CFG'
    ECS_CLUSTER=${var.name}
    ECS_ENABLE_GPU_SUPPORT=true
    ECS_AWSVPC_BLOCK_IMDS=true
    ECS_ENABLE_CONTAINER_METADATA=true
    ECS_CONTAINER_STOP_TIMEOUT=30s
    CFG
  EOT
  )

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-gpu" })
  }
}

resource "aws_autoscaling_group" "gpu" {
  count                 = local.split ? 1 : 0
  name_prefix           = "${var.name}-gpu-"
  vpc_zone_identifier   = var.private_subnet_ids
  min_size              = var.gpu_min_instances
  max_size              = var.gpu_max_instances
  protect_from_scale_in = true
  health_check_type     = "EC2"

  launch_template {
    id      = aws_launch_template.gpu[0].id
    version = aws_launch_template.gpu[0].latest_version
  }

  # A new AMI (or any launch template change) gives a new template version,
  # which rolls the instances; ECS managed draining moves the calibrator.
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage       = 0
      scale_in_protected_instances = "Refresh"
    }
  }

  tag {
    key                 = "AmazonECSManaged"
    value               = "true"
    propagate_at_launch = true
  }

  dynamic "tag" {
    for_each = var.tags
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    # Managed scaling owns desired capacity.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "gpu" {
  count = local.split ? 1 : 0
  name  = "${var.name}-gpu"
  tags  = var.tags

  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.gpu[0].arn
    managed_termination_protection = "ENABLED"
    managed_draining               = "ENABLED"

    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = 100
      minimum_scaling_step_size = 1
      maximum_scaling_step_size = 1
      instance_warmup_period    = 300
    }
  }
}
