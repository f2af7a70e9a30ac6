variable "name" {
  type = string
}

variable "metrics_namespace" {
  description = "Namespace of the service's EMF metrics (the containers get it as VOLSURF_METRICS_NAMESPACE)."
  type        = string
}

variable "topology" {
  description = "single or split (modules/ecs): decides the Role dimension the alarms read (all, or gateway / ingest / calibrate)."
  type        = string
  default     = "single"

  validation {
    condition     = contains(["single", "split"], var.topology)
    error_message = "topology is \"single\" or \"split\"."
  }
}

variable "service_names" {
  description = "ECS service names, for the CPU widget."
  type        = list(string)
}

variable "log_group_names" {
  description = "service -> log group name (volsurf; or gateway, ingest, calibrator)."
  type        = map(string)
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm by mail)."
  type        = list(string)
  default     = []
}

variable "cluster_name" {
  type = string
}

variable "alb_arn_suffix" {
  type = string
}

variable "target_group_arn_suffix" {
  type = string
}

variable "thresholds" {
  description = "Alarm thresholds; see docs/deploy.md for what each metric means."
  type = object({
    feed_age_ms           = number
    fit_batch_p99_ms      = number
    quote_queue_depth     = number
    dropped_messages_5min = number
    websocket_connections = number
    fit_rmse_vol_pts      = number
    log_errors_5min       = number
  })
  default = {
    feed_age_ms           = 5000
    fit_batch_p99_ms      = 250
    quote_queue_depth     = 50000
    dropped_messages_5min = 100
    websocket_connections = 20000
    fit_rmse_vol_pts      = 2.0
    log_errors_5min       = 20
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}
