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

variable "image_tag" {
  description = "CPU image tag (gateway, ingest): the git SHA pushed by CI."
  type        = string
}

variable "gpu_image_tag" {
  description = "CUDA image tag (calibrator); usually the same SHA as image_tag."
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
  description = "Create an Amazon MSK cluster for the ingest -> calibrator -> gateway topics."
  type        = bool
  default     = false
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
    condition     = var.enable_msk || length(var.kafka_bootstrap_brokers) > 0
    error_message = "Set enable_msk = true or give kafka_bootstrap_brokers: the split roles talk through Kafka."
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
