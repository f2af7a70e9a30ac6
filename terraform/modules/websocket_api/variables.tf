variable "name" {
  type = string
}

variable "api_host" {
  description = "Public host of the websocket API, e.g. api.volsurf.example.com."
  type        = string
}

variable "route53_zone_id" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "public_subnet_ids" {
  type = list(string)
}

variable "container_port" {
  description = "Port volsurf serves the websocket, /healthz and /metrics on."
  type        = number
  default     = 8080
}

variable "heartbeat_interval_s" {
  description = "Server heartbeat period on every websocket (volsurf: 1 s)."
  type        = number
  default     = 1
}

variable "idle_timeout_s" {
  description = "ALB idle timeout. Heartbeats keep healthy sockets busy, so this only reaps dead ones; must be well above the heartbeat."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_timeout_s >= 10 && var.idle_timeout_s <= 4000
    error_message = "idle_timeout_s must be within 10..4000 s."
  }
}

variable "deregistration_delay_s" {
  description = "How long a draining gateway keeps its sockets during a deploy before the ALB cuts them (clients reconnect and resnapshot)."
  type        = number
  default     = 30
}

variable "deletion_protection" {
  type    = bool
  default = true
}

variable "access_logs_bucket" {
  description = "Optional S3 bucket for ALB access logs (empty: off)."
  type        = string
  default     = ""
}

variable "tags" {
  type    = map(string)
  default = {}
}
