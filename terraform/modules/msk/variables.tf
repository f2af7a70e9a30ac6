variable "name" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  description = "One private subnet per AZ; broker count must be a multiple of their number."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups of the tasks that may reach the brokers."
  type        = list(string)
}

variable "kafka_version" {
  type    = string
  default = "3.8.x"
}

variable "broker_instance_type" {
  description = "kafka.t3.small for staging, kafka.m7g.large and up for production."
  type        = string
  default     = "kafka.m7g.large"
}

variable "brokers_per_az" {
  type    = number
  default = 1
}

variable "broker_volume_gib" {
  type    = number
  default = 100
}

variable "log_retention_days" {
  type    = number
  default = 14
}

variable "tags" {
  type    = map(string)
  default = {}
}
