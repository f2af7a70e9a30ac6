variable "name" {
  description = "Name prefix (e.g. volsurf-prod)."
  type        = string
}

variable "environment" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "private_subnet_ids" {
  type = list(string)
}

variable "alb_security_group_id" {
  type = string
}

variable "target_group_arn" {
  type = string
}

variable "alb_arn_suffix" {
  type = string
}

variable "target_group_arn_suffix" {
  type = string
}

variable "container_port" {
  type    = number
  default = 8080
}

# ---------------------------------------------------------------- images

variable "image_tag" {
  description = "Tag of the CPU image (gateway, ingest) in the <name>/volsurf repository. Immutable tags: use the git SHA."
  type        = string
}

variable "gpu_image_tag" {
  description = "Tag of the CUDA image (calibrator) in the <name>/volsurf-gpu repository."
  type        = string
}

variable "keep_images" {
  description = "Tagged images kept per repository (rollback window)."
  type        = number
  default     = 30
}

# ---------------------------------------------------------------- gateway

variable "gateway_cpu" {
  description = "Fargate CPU units per gateway task."
  type        = number
  default     = 1024
}

variable "gateway_memory" {
  description = "Fargate memory (MiB) per gateway task."
  type        = number
  default     = 2048
}

variable "gateway_min_count" {
  type    = number
  default = 2
}

variable "gateway_max_count" {
  type    = number
  default = 10
}

variable "gateway_target_cpu_percent" {
  type    = number
  default = 60
}

variable "gateway_target_requests_per_target" {
  description = "ALBRequestCountPerTarget target (per minute): websocket upgrades and snapshot fetches."
  type        = number
  default     = 600
}

variable "gateway_target_connections_per_task" {
  description = "Custom metric target: average open websockets per gateway task (EMF WebsocketConnections)."
  type        = number
  default     = 2000
}

# ---------------------------------------------------------------- ingest

variable "ingest_cpu" {
  type    = number
  default = 512
}

variable "ingest_memory" {
  type    = number
  default = 1024
}

variable "ingest_min_count" {
  description = "Ingest tasks; one per venue shard. Keep 1 until feeds shard by venue (two tasks publish every quote twice)."
  type        = number
  default     = 1
}

variable "ingest_max_count" {
  type    = number
  default = 1
}

variable "venues" {
  description = "Comma-separated venues ingest subscribes to."
  type        = string
  default     = "deribit,okx,bybit,binance"
}

variable "exchange_secret_arns" {
  description = "venue -> Secrets Manager ARN (keys deribit, okx, bybit, binance)."
  type        = map(string)
}

variable "kafka_brokers_param_arn" {
  description = "SSM parameter holding the Kafka bootstrap brokers."
  type        = string
}

variable "use_fargate_spot" {
  description = "Run Fargate services on FARGATE_SPOT (staging): ~70% cheaper, tasks may be reclaimed with 2 min notice."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------- calibrator (GPU)

variable "gpu_instance_type" {
  description = "EC2 GPU instance type for the calibrator (g6.xlarge: 1x L4; g4dn.xlarge: 1x T4; g5.xlarge: 1x A10G)."
  type        = string
  default     = "g6.xlarge"
}

variable "gpu_ami_ssm_parameter" {
  description = "SSM parameter with the ECS GPU-optimized AMI id. Pin a release path to freeze the NVIDIA driver (CUDA 13 needs driver >= 580)."
  type        = string
  default     = "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id"
}

variable "gpu_min_instances" {
  type    = number
  default = 1
}

variable "gpu_max_instances" {
  type    = number
  default = 2
}

variable "calibrator_memory_mib" {
  description = "Container memory for the calibrator (leave ~1.5 GiB of the instance to the OS and agent)."
  type        = number
  default     = 12288
}

variable "calibrator_count" {
  description = "Calibrator tasks: 1 (one writer per surface) or 0 to park the GPU (managed scaling then drains the ASG to gpu_min_instances)."
  type        = number
  default     = 1

  validation {
    condition     = contains([0, 1], var.calibrator_count)
    error_message = "calibrator_count is 0 or 1: two calibrators would interleave surface sequence numbers."
  }
}

variable "calibrator_gpus" {
  type    = number
  default = 1
}

# ---------------------------------------------------------------- shared

variable "metrics_namespace" {
  description = "CloudWatch namespace the service's EMF records use."
  type        = string
}

variable "allowed_origin" {
  description = "Browser Origin the gateway accepts websocket upgrades from (https://<domain>)."
  type        = string
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "container_insights" {
  description = "ECS Container Insights: disabled, enabled or enhanced (paid per metric)."
  type        = string
  default     = "enabled"
}

variable "tags" {
  type    = map(string)
  default = {}
}
