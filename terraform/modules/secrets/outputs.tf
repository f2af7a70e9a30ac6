output "exchange_secret_arns" {
  description = "venue -> secret ARN"
  value       = { for k, s in aws_secretsmanager_secret.exchange : k => s.arn }
}

output "config_parameter_arns" {
  description = "setting -> SSM parameter ARN"
  value       = { for k, p in aws_ssm_parameter.config : k => p.arn }
}
