# The service behind the ALB (single: volsurf; split: gateway) has three
# target-tracking policies; it scales out when any one asks and in only
# when all agree.
#   CPU            single: feeds + fits + fan-out; split: encode/fan-out
#   ALB requests   new websocket upgrades + snapshot fetches per target
#   connections    custom EMF metric WebsocketConnections (Role = the
#                  --role value: all or gateway): open sockets per task,
#                  the real per-gateway load
# Scale-in is slow (10 min): removing a task drops its sockets (clients
# reconnect and resnapshot elsewhere).  In single every task also runs its
# own feeds and calibration, so a scale-out adds exchange connections too
# (serve_max_count bounds that).
# Ingest (split): CPU target tracking within ingest_min_count..ingest_max_count.

locals {
  # ECS service the ALB forwards to, and the Role its EMF metrics carry.
  front_service = local.split ? "gateway" : "volsurf"
  front_min     = local.split ? var.gateway_min_count : var.serve_min_count
  front_max     = local.split ? var.gateway_max_count : var.serve_max_count
  front_cpu     = local.split ? var.gateway_target_cpu_percent : var.serve_target_cpu_percent
}

resource "aws_appautoscaling_target" "front" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${local.front_service}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = local.front_min
  max_capacity       = local.front_max

  depends_on = [aws_ecs_service.volsurf, aws_ecs_service.gateway]
}
resource "aws_appautoscaling_policy" "front_cpu" {
  name               = "${var.name}-${local.front_service}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.front.service_namespace
  resource_id        = aws_appautoscaling_target.front.resource_id
  scalable_dimension = aws_appautoscaling_target.front.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = local.front_cpu
    scale_in_cooldown  = 600
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "front_requests" {
  name               = "${var.name}-${local.front_service}-alb-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.front.service_namespace
  resource_id        = aws_appautoscaling_target.front.resource_id
  scalable_dimension = aws_appautoscaling_target.front.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.gateway_target_requests_per_target
    scale_in_cooldown  = 600
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"
    }
  }
}

resource "aws_appautoscaling_policy" "front_connections" {
  name               = "${var.name}-${local.front_service}-websockets"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.front.service_namespace
  resource_id        = aws_appautoscaling_target.front.resource_id
  scalable_dimension = aws_appautoscaling_target.front.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = local.split ? var.gateway_target_connections_per_task : var.serve_target_connections_per_task
    scale_in_cooldown  = 600
    scale_out_cooldown = 60

    customized_metric_specification {
      namespace   = var.metrics_namespace
      metric_name = "WebsocketConnections"
      statistic   = "Average"

      dimensions {
        name  = "Role"
        value = local.service_roles[local.front_service]
      }
    }
  }
}

resource "aws_appautoscaling_target" "ingest" {
  count              = local.split ? 1 : 0
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.ingest[0].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.ingest_min_count
  max_capacity       = var.ingest_max_count
}

resource "aws_appautoscaling_policy" "ingest_cpu" {
  count              = local.split ? 1 : 0
  name               = "${var.name}-ingest-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.ingest[0].service_namespace
  resource_id        = aws_appautoscaling_target.ingest[0].resource_id
  scalable_dimension = aws_appautoscaling_target.ingest[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = 70
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
