variable "name" {
  description = "Name prefix for every resource, e.g. volsurf-prod."
  type        = string
}

variable "environment" {
  description = "prod, staging, ..."
  type        = string
}

variable "domain" {
  description = "Dashboard host (apex of the redirect), e.g. volsurf.example.com."
  type        = string
}

variable "api_host" {
  description = "Websocket API host; empty = api.<domain>."
  type        = string
  default     = ""
}

variable "route53_zone_name" {
  description = "Public hosted zone holding domain and api_host, e.g. example.com."
  type        = string
}

variable "topology" {
  description = "single: one Fargate service running `volsurf serve --role all` (the only topology volsurf runs today). split: gateway / ingest / calibrator joined by Kafka; needs enable_msk or kafka_bootstrap_brokers, and the Kafka roles, which are not built yet."
  type        = string
  default     = "single"

  validation {
    condition     = contains(["single", "split"], var.topology)
    error_message = "topology is \"single\" or \"split\"."
  }
}

variable "venues" {
  description = "VOLSURF_VENUES: live venues, a comma list of deribit, okx, bybit, binance."
  type        = string
  default     = "deribit,okx,bybit,binance"

  validation {
    condition     = alltrue([for v in split(",", var.venues) : contains(["deribit", "okx", "bybit", "binance"], v)])
    error_message = "venues is a comma list of deribit, okx, bybit, binance (no spaces); \"sim\" is for local runs, not a deployment."
  }
}

variable "serve_cpu" {
  description = "single: Fargate CPU units per all-in-one task."
  type        = number
  default     = 2048
}

variable "serve_memory" {
  description = "single: Fargate memory (MiB) per all-in-one task."
  type        = number
  default     = 4096
}

variable "serve_min_count" {
  type    = number
  default = 2
}

variable "serve_max_count" {
  type    = number
  default = 6
}

variable "image_tag" {
  description = "CPU image tag (single: volsurf; split: gateway, ingest): the git SHA pushed by CI."
  type        = string
}

variable "gpu_image_tag" {
  description = "CUDA image tag (split: calibrator); usually the same SHA as image_tag. Unused in single."
  type        = string
}

variable "gpu_instance_type" {
  type    = string
  default = "g6.xlarge"
}

variable "gpu_min_instances" {
  type    = number
  default = 1
}

variable "gpu_max_instances" {
  type    = number
  default = 2
}

variable "calibrator_count" {
  description = "1, or 0 to park the calibrator (and, with gpu_min_instances = 0, the GPU instance)."
  type        = number
  default     = 1
}

variable "gateway_cpu" {
  type    = number
  default = 1024
}

variable "gateway_memory" {
  type    = number
  default = 2048
}

variable "gateway_min_count" {
  type    = number
  default = 2
}

variable "gateway_max_count" {
  type    = number
  default = 10
}

variable "ingest_cpu" {
  type    = number
  default = 512
}

variable "ingest_memory" {
  type    = number
  default = 1024
}

variable "use_fargate_spot" {
  type    = bool
  default = false
}

variable "alb_idle_timeout_s" {
  type    = number
  default = 60
}

variable "enable_msk" {
  description = "Create an Amazon MSK cluster for the ingest -> calibrator -> gateway topics (split only)."
  type        = bool
  default     = false

  validation {
    condition     = !var.enable_msk || var.topology == "split"
    error_message = "enable_msk needs topology = \"split\": the single topology runs in one process and would pay for a Kafka nobody uses."
  }
}

variable "msk_broker_instance_type" {
  type    = string
  default = "kafka.m7g.large"
}

variable "kafka_bootstrap_brokers" {
  description = "Existing Kafka (TLS) bootstrap brokers when enable_msk is false."
  type        = string
  default     = ""

  validation {
    condition     = var.topology != "split" || var.enable_msk || length(var.kafka_bootstrap_brokers) > 0
    error_message = "topology = \"split\" needs enable_msk = true or kafka_bootstrap_brokers: the split roles talk through Kafka."
  }
}

variable "az_count" {
  type    = number
  default = 2
}

variable "single_nat_gateway" {
  type    = bool
  default = false
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "alarm_emails" {
  type    = list(string)
  default = []
}

variable "cloudfront_price_class" {
  type    = string
  default = "PriceClass_100"
}

variable "deletion_protection" {
  description = "ALB deletion protection; false lets staging be destroyed in one go (also empties the dashboard bucket)."
  type        = bool
  default     = true
}

variable "tags" {
  type    = map(string)
  default = {}
}
