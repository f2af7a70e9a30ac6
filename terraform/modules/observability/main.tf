# Monitoring.  volsurf writes its metrics as CloudWatch Embedded Metric
# Format records on stdout (--metrics-emf); the awslogs driver ships them to
# the role's log group and CloudWatch extracts them into var.metrics_namespace
# with no agent and no PutMetricData permission.  Every record carries the
# dimension set [Role] (aggregate, what alarms and autoscaling use) and a
# finer set ([Role, Venue] for feeds, [Role, Venue, Asset, Expiry] for fit
# quality) for the dashboard.
#
# metric (unit)                 role        meaning
# FeedAgeMs (ms)                ingest      age of the newest quote per venue: feed freshness
# FitBatchMs (ms)               calibrator  wall time of one batched SVI fit
# QuoteQueueDepth (count)       calibrator  quotes waiting between book and calibration
# DroppedMessages (count)       gateway     patches dropped by conflation / slow clients cut
# WebsocketConnections (count)  gateway     open sockets per task
# FitRmseVolPts (vol points)    calibrator  per-expiry fit RMSE; [Role] carries the worst expiry
#
# Plus one log metric filter (ERROR lines) for what EMF cannot count: a
# crash loop still writes its last error line.

locals {
  ns = var.metrics_namespace
  emf_alarms = {
    feed-stale = {
      metric      = "FeedAgeMs"
      role        = "ingest"
      statistic   = "Maximum"
      threshold   = var.thresholds.feed_age_ms
      periods     = 3
      period      = 60
      missing     = "breaching" # no record at all = no feed
      description = "Newest quote older than ${var.thresholds.feed_age_ms} ms: an exchange feed is stale or ingest is down."
    }
    fit-slow = {
      metric      = "FitBatchMs"
      role        = "calibrator"
      statistic   = "p99"
      threshold   = var.thresholds.fit_batch_p99_ms
      periods     = 5
      period      = 60
      missing     = "breaching" # no fits = calibrator down
      description = "p99 batched fit time above ${var.thresholds.fit_batch_p99_ms} ms: the GPU is saturated or the CPU fallback is in use."
    }
    quote-backlog = {
      metric      = "QuoteQueueDepth"
      role        = "calibrator"
      statistic   = "Maximum"
      threshold   = var.thresholds.quote_queue_depth
      periods     = 3
      period      = 60
      missing     = "notBreaching"
      description = "Quote queue deeper than ${var.thresholds.quote_queue_depth}: calibration is falling behind the feeds."
    }
    dropped-messages = {
      metric      = "DroppedMessages"
      role        = "gateway"
      statistic   = "Sum"
      threshold   = var.thresholds.dropped_messages_5min
      periods     = 1
      period      = 300
      missing     = "notBreaching"
      description = "More than ${var.thresholds.dropped_messages_5min} messages dropped in 5 min: slow clients or an overloaded gateway."
    }
    websocket-connections = {
      metric      = "WebsocketConnections"
      role        = "gateway"
      statistic   = "Sum"
      threshold   = var.thresholds.websocket_connections
      periods     = 3
      period      = 60
      missing     = "notBreaching"
      description = "More than ${var.thresholds.websocket_connections} open websockets across gateways: near the scaling ceiling."
    }
    fit-quality = {
      metric      = "FitRmseVolPts"
      role        = "calibrator"
      statistic   = "Maximum"
      threshold   = var.thresholds.fit_rmse_vol_pts
      periods     = 5
      period      = 60
      missing     = "notBreaching"
      description = "Worst expiry fits with RMSE above ${var.thresholds.fit_rmse_vol_pts} vol points for 5 min."
    }
  }
  percentile_stats = ["p50", "p90", "p95", "p99"]
}

resource "aws_sns_topic" "alarms" {
  name = "${var.name}-alarms"
  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "emf" {
  for_each            = local.emf_alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = local.ns
  metric_name         = each.value.metric
  dimensions          = { Role = each.value.role }
  statistic           = contains(local.percentile_stats, each.value.statistic) ? null : each.value.statistic
  extended_statistic  = contains(local.percentile_stats, each.value.statistic) ? each.value.statistic : null
  period              = each.value.period
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = each.value.missing
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_log_metric_filter" "errors" {
  for_each       = var.log_group_names
  name           = "${var.name}-${each.key}-errors"
  log_group_name = each.value
  pattern        = "ERROR"

  metric_transformation {
    name          = "LogErrors"
    namespace     = local.ns
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "log_errors" {
  alarm_name          = "${var.name}-log-errors"
  alarm_description   = "More than ${var.thresholds.log_errors_5min} ERROR log lines in 5 min across roles."
  namespace           = local.ns
  metric_name         = "LogErrors"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.thresholds.log_errors_5min
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_gateways" {
  alarm_name          = "${var.name}-gateway-unhealthy-targets"
  alarm_description   = "A gateway target fails /healthz."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  alarm_name          = "${var.name}-alb-5xx"
  alarm_description   = "The ALB itself answers 5xx (no healthy gateway, or gateways refusing)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_ELB_5XX_Count"
  dimensions          = { LoadBalancer = var.alb_arn_suffix }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 10
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = concat(
      [
        for i, a in keys(local.emf_alarms) : {
          type   = "metric"
          x      = (i % 3) * 8
          y      = floor(i / 3) * 6
          width  = 8
          height = 6
          properties = {
            title  = local.emf_alarms[a].metric
            region = data.aws_region.current.region
            view   = "timeSeries"
            stat   = local.emf_alarms[a].statistic
            period = 60
            metrics = [
              [local.ns, local.emf_alarms[a].metric, "Role", local.emf_alarms[a].role],
            ]
            annotations = {
              horizontal = [{ label = "alarm", value = local.emf_alarms[a].threshold }]
            }
          }
        }
      ],
      [
        {
          type   = "metric"
          x      = 0
          y      = 12
          width  = 12
          height = 6
          properties = {
            title  = "Fit RMSE per expiry (vol points)"
            region = data.aws_region.current.region
            view   = "timeSeries"
            period = 60
            metrics = [
              [{ expression = "SEARCH('{${local.ns},Role,Venue,Asset,Expiry} MetricName=\"FitRmseVolPts\"', 'Maximum', 60)", id = "rmse", label = "" }],
            ]
          }
        },
        {
          type   = "metric"
          x      = 12
          y      = 12
          width  = 12
          height = 6
          properties = {
            title  = "Feed age per venue (ms)"
            region = data.aws_region.current.region
            view   = "timeSeries"
            period = 60
            metrics = [
              [{ expression = "SEARCH('{${local.ns},Role,Venue} MetricName=\"FeedAgeMs\"', 'Maximum', 60)", id = "feeds", label = "" }],
            ]
          }
        },
        {
          type   = "metric"
          x      = 0
          y      = 18
          width  = 12
          height = 6
          properties = {
            title  = "ECS CPU by service (%)"
            region = data.aws_region.current.region
            view   = "timeSeries"
            stat   = "Average"
            period = 60
            metrics = [
              ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", "gateway"],
              ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", "ingest"],
              ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", "calibrator"],
            ]
          }
        },
        {
          type   = "metric"
          x      = 12
          y      = 18
          width  = 12
          height = 6
          properties = {
            title  = "ALB: requests, healthy targets, 5xx"
            region = data.aws_region.current.region
            view   = "timeSeries"
            stat   = "Sum"
            period = 60
            metrics = [
              ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix],
              ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "Minimum" }],
              ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", var.alb_arn_suffix],
            ]
          }
        },
        {
          type   = "alarm"
          x      = 0
          y      = 24
          width  = 24
          height = 4
          properties = {
            title = "Alarms"
            alarms = concat(
              [for a in aws_cloudwatch_metric_alarm.emf : a.arn],
              [aws_cloudwatch_metric_alarm.log_errors.arn, aws_cloudwatch_metric_alarm.unhealthy_gateways.arn, aws_cloudwatch_metric_alarm.alb_5xx.arn],
            )
          }
        },
      ],
    )
  })
}

data "aws_region" "current" {}
