variable "name" {
  description = "Name prefix (e.g. volsurf-prod)."
  type        = string
}

variable "domain" {
  description = "Canonical dashboard host (apex), e.g. volsurf.example.com. www.<domain> redirects here."
  type        = string
}

variable "api_host" {
  description = "Host of the websocket API; the CSP allows wss:// to it and nothing else."
  type        = string
}

variable "route53_zone_id" {
  description = "Hosted zone that holds domain, for ACM validation and alias records."
  type        = string
}

variable "price_class" {
  description = "CloudFront price class (PriceClass_100 = NA + EU edges only, cheapest)."
  type        = string
  default     = "PriceClass_100"
}

variable "html_max_ttl_s" {
  description = "Longest time an edge keeps index.html and other unhashed files."
  type        = number
  default     = 60
}

variable "force_destroy" {
  description = "Allow terraform destroy to empty the bucket (staging only)."
  type        = bool
  default     = false
}

variable "tags" {
  type    = map(string)
  default = {}
}
