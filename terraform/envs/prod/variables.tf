variable "environment" {
  type    = string
  default = "prod"
}

variable "region" {
  description = "Home region. eu-west-2 (London) sits next to Deribit's matching engine (LD4)."
  type        = string
  default     = "eu-west-2"
}

variable "domain" {
  description = "Dashboard host; the API is api.<domain>."
  type        = string
}

variable "route53_zone_name" {
  type = string
}

variable "topology" {
  description = "single: one Fargate service running `volsurf serve --role all` (works today). split: gateway / ingest / calibrator through Kafka (needs the Kafka roles, not built yet, and enable_msk or kafka_bootstrap_brokers)."
  type        = string
  default     = "single"
}

variable "venues" {
  description = "Live venues (VOLSURF_VENUES)."
  type        = string
  default     = "deribit,okx,bybit,binance"
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
  description = "CPU image tag to run (git SHA)."
  type        = string
}

variable "gpu_image_tag" {
  description = "GPU image tag to run (git SHA)."
  type        = string
}

variable "gpu_instance_type" {
  description = "g6.xlarge: 1x NVIDIA L4 (sm_89), 4 vCPU, 16 GiB."
  type        = string
  default     = "g6.xlarge"
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
  description = "1, or 0 to park the calibrator and let the GPU ASG drain to gpu_min_instances."
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
  default = 12
}

variable "use_fargate_spot" {
  type    = bool
  default = false
}

variable "enable_msk" {
  description = "Create Amazon MSK for the ingest -> calibrator -> gateway topics (topology = \"split\" only)."
  type        = bool
  default     = false
}

variable "msk_broker_instance_type" {
  type    = string
  default = "kafka.m7g.large"
}

variable "kafka_bootstrap_brokers" {
  description = "TLS bootstrap brokers of an existing Kafka, used when enable_msk is false."
  type        = string
  default     = ""
}

variable "single_nat_gateway" {
  type    = bool
  default = false
}

variable "log_retention_days" {
  type    = number
  default = 90
}

variable "alarm_emails" {
  type    = list(string)
  default = []
}

variable "deletion_protection" {
  type    = bool
  default = true
}
