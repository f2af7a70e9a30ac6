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

variable "topology" {
  description = "single: one Fargate service running `volsurf serve --role all` (works today). split: gateway / ingest / calibrator services joined by Kafka (needs the Kafka roles, not built yet)."
  type        = string
  default     = "single"

  validation {
    condition     = contains(["single", "split"], var.topology)
    error_message = "topology is \"single\" or \"split\"."
  }
}

# ---------------------------------------------------------------- single topology

variable "serve_cpu" {
  description = "Fargate CPU units per all-in-one task (feeds + calibration + gateway in one process)."
  type        = number
  default     = 2048
}

variable "serve_memory" {
  description = "Fargate memory (MiB) per all-in-one task."
  type        = number
  default     = 4096
}

variable "serve_min_count" {
  description = "All-in-one tasks at least: each runs its own feeds and calibration, so any of them serves a full snapshot."
  type        = number
  default     = 2
}

variable "serve_max_count" {
  description = "All-in-one tasks at most. Every task opens its own exchange websockets through the NAT gateway's address: keep this modest (venues limit connections per IP)."
  type        = number
  default     = 6
}

variable "serve_target_cpu_percent" {
  description = "CPU target of the all-in-one tasks (calibration shares the vCPUs with the fan-out)."
  type        = number
  default     = 60
}

variable "serve_target_connections_per_task" {
  description = "Custom metric target: average open websockets per all-in-one task (EMF WebsocketConnections, Role=all)."
  type        = number
  default     = 1500
}

variable "fit_backend" {
  description = "VOLSURF_FIT_BACKEND of the all-in-one task: auto (the CPU image has no CUDA, so the CPU fitter), cpu or gpu."
  type        = string
  default     = "auto"

  validation {
    condition     = contains(["auto", "cpu", "gpu"], var.fit_backend)
    error_message = "fit_backend is auto, cpu or gpu."
  }
}

variable "log_level" {
  description = "VOLSURF_LOG_LEVEL: debug, info, warn or error."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level is debug, info, warn or error."
  }
}

variable "static_dir" {
  description = "VOLSURF_STATIC_DIR: where the CPU image keeps the built dashboard (terraform/images/Dockerfile)."
  type        = string
  default     = "/usr/share/volsurf/web"
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
  description = "VOLSURF_VENUES: comma-separated live venues (deribit,okx,bybit,binance) of the all-in-one task (single) or of ingest (split)."
  type        = string
  default     = "deribit,okx,bybit,binance"
}

variable "exchange_secret_arns" {
  description = "split only: venue -> Secrets Manager ARN (keys deribit, okx, bybit, binance). Empty in single: volsurf reads no credential today."
  type        = map(string)
  default     = {}
}

variable "kafka_brokers_param_arn" {
  description = "split only: SSM parameter holding the Kafka bootstrap brokers."
  type        = string
  default     = ""
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
  description = "VOLSURF_ALLOWED_ORIGIN: comma list of browser Origins the gateway accepts websocket upgrades from (https://<domain>,https://<api host>)."
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
