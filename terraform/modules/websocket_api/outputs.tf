output "alb_arn" {
  value = aws_lb.api.arn
}

output "alb_arn_suffix" {
  value = aws_lb.api.arn_suffix
}

output "alb_security_group_id" {
  value = aws_security_group.alb.id
}

output "target_group_arn" {
  value = aws_lb_target_group.gateway.arn
}

output "target_group_arn_suffix" {
  value = aws_lb_target_group.gateway.arn_suffix
}

output "https_listener_arn" {
  value = aws_lb_listener.https.arn
}

output "websocket_url" {
  value = "wss://${var.api_host}"
}
