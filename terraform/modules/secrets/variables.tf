variable "name" {
  description = "Name prefix; secrets live under <name>/exchange/<venue>."
  type        = string
}

variable "venues" {
  description = "Exchanges that get a credentials secret (JSON keys api_key, api_secret, passphrase)."
  type        = list(string)
  default     = ["deribit", "okx", "bybit", "binance"]
}

variable "config" {
  description = "Non-secret runtime settings published as SSM String parameters under /<name>/config/ (key -> value)."
  type        = map(string)
  default     = {}
}

variable "recovery_window_days" {
  type    = number
  default = 7
}

variable "tags" {
  type    = map(string)
  default = {}
}
