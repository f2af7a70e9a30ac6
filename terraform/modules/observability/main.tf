# Monitoring.  volsurf writes its metrics as CloudWatch Embedded Metric
# Format records on stdout (--metrics-emf, one line per series every 10 s,
# host/metrics.c); the awslogs driver ships them to the service's log group
# and CloudWatch extracts them into var.metrics_namespace with no agent and
# no PutMetricData permission.  Every record carries the dimension set
# [Role] (Role = the process's --role: "all" in the single topology;
# gateway / ingest / calibrate in split), which alarms and autoscaling use,
# and, for series with labels, [Role, <labels capitalised>] ([Role, Venue]
# for feed age, [Role, Venue, Asset, Expiry] for fit quality) for the
# dashboard.
#
# metric (EMF unit)                  stage        meaning
# FeedAgeMs (Milliseconds)           feeds        age of the newest quote per venue: feed freshness
# FitBatchMs (Milliseconds)          calibration  p99 over the 10 s interval of one batched SVI fit's wall time
# QuoteQueueDepth (Count)            calibration  quotes waiting between the feeds and calibration
# DroppedMessages (Count)            gateway      increase over the 10 s interval of dropped/conflated messages
# WebsocketConnections (Count)       gateway      open sockets of one process
# FitRmseVolPts (None: vol points)   calibration  per-expiry fit RMSE; [Role] carries every expiry (Maximum = worst)
#
# Plus one log metric filter (JSON log lines with "level":"error",
# host/log.c) for what EMF cannot count: a crash loop still writes its last
# error line.

locals {
  ns    = var.metrics_namespace
  split = var.topology == "split"
  # Pipeline stage -> the Role dimension value of the process running it.
  stage_role = local.split ? {
    feeds       = "ingest"
    calibration = "calibrate"
    gateway     = "gateway"
    } : {
    feeds       = "all"
    calibration = "all"
    gateway     = "all"
  }
  # EMF writes one value per process every emf_period_s seconds
  # (SERVE_EMF_PERIOD_MS in host/cmd_serve.c): a gauge's Sum over a period
  # counts each process period/emf_period_s times, so "total across tasks"
  # is Sum * emf_period_s / PERIOD.
  emf_period_s = 10
  emf_alarms = {
    feed-stale = {
      metric      = "FeedAgeMs"
      stage       = "feeds"
      expression  = "m1"
      statistic   = "Maximum"
      threshold   = var.thresholds.feed_age_ms
      periods     = 3
      period      = 60
      missing     = "breaching" # no record at all = no feed
      description = "Newest quote older than ${var.thresholds.feed_age_ms} ms: an exchange feed is stale or the feeds are down."
    }
    fit-slow = {
      metric      = "FitBatchMs"
      stage       = "calibration"
      expression  = "m1"
      statistic   = "Maximum" # each EMF value already is the p99 of its 10 s
      threshold   = var.thresholds.fit_batch_p99_ms
      periods     = 5
      period      = 60
      missing     = "breaching" # no fits = calibrator down
      description = "p99 batched fit time above ${var.thresholds.fit_batch_p99_ms} ms: calibration cannot keep its cadence (CPU saturated, or in split the GPU saturated or the CPU fallback in use)."
    }
    quote-backlog = {
      metric      = "QuoteQueueDepth"
      stage       = "calibration"
      expression  = "m1"
      statistic   = "Maximum"
      threshold   = var.thresholds.quote_queue_depth
      periods     = 3
      period      = 60
      missing     = "notBreaching"
      description = "Quote queue deeper than ${var.thresholds.quote_queue_depth}: calibration is falling behind the feeds."
    }
    dropped-messages = {
      metric      = "DroppedMessages"
      stage       = "gateway"
      expression  = "m1"
      statistic   = "Sum"
      threshold   = var.thresholds.dropped_messages_5min
      periods     = 1
      period      = 300
      missing     = "notBreaching"
      description = "More than ${var.thresholds.dropped_messages_5min} messages dropped in 5 min: slow clients or an overloaded gateway."
    }
    websocket-connections = {
      metric      = "WebsocketConnections"
      stage       = "gateway"
      expression  = "m1 * ${local.emf_period_s} / PERIOD(m1)" # total across tasks
      statistic   = "Sum"
      threshold   = var.thresholds.websocket_connections
      periods     = 3
      period      = 60
      missing     = "notBreaching"
      description = "More than ${var.thresholds.websocket_connections} open websockets across all tasks: near the scaling ceiling."
    }
    fit-quality = {
      metric      = "FitRmseVolPts"
      stage       = "calibration"
      expression  = "m1"
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
  for_each            = { for k, a in local.emf_alarms : k => a if a.expression == "m1" }
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = local.ns
  metric_name         = each.value.metric
  dimensions          = { Role = local.stage_role[each.value.stage] }
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

# Alarms on an expression of the EMF metric (m1), e.g. the total of a
# per-process gauge across tasks.
resource "aws_cloudwatch_metric_alarm" "emf_math" {
  for_each            = { for k, a in local.emf_alarms : k => a if a.expression != "m1" }
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = each.value.missing
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags

  metric_query {
    id          = "e1"
    expression  = each.value.expression
    label       = each.value.metric
    return_data = true
  }

  metric_query {
    id          = "m1"
    return_data = false

    metric {
      namespace   = local.ns
      metric_name = each.value.metric
      dimensions  = { Role = local.stage_role[each.value.stage] }
      stat        = each.value.statistic
      period      = each.value.period
    }
  }
}

resource "aws_cloudwatch_log_metric_filter" "errors" {
  for_each       = var.log_group_names
  name           = "${var.name}-${each.key}-errors"
  log_group_name = each.value
  pattern        = "{ $.level = \"error\" }" # JSON log lines, host/log.c

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
  alarm_description   = "More than ${var.thresholds.log_errors_5min} ERROR log lines in 5 min across services."
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
  alarm_description   = "A target behind the ALB fails /healthz (starting, calibration stalled or no market data)."
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
  alarm_description   = "The ALB itself answers 5xx (no healthy target, or targets refusing)."
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
            period = 60
            metrics = [
              [{ expression = local.emf_alarms[a].expression, id = "e1", label = "${local.emf_alarms[a].metric} (Role=${local.stage_role[local.emf_alarms[a].stage]})" }],
              [local.ns, local.emf_alarms[a].metric, "Role", local.stage_role[local.emf_alarms[a].stage], { id = "m1", stat = local.emf_alarms[a].statistic, visible = false }],
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
              for svc in var.service_names : ["AWS/ECS", "CPUUtilization", "ClusterName", var.cluster_name, "ServiceName", svc]
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
              [for a in aws_cloudwatch_metric_alarm.emf_math : a.arn],
              [aws_cloudwatch_metric_alarm.log_errors.arn, aws_cloudwatch_metric_alarm.unhealthy_gateways.arn, aws_cloudwatch_metric_alarm.alb_5xx.arn],
            )
          }
        },
      ],
    )
  })
}

data "aws_region" "current" {}
