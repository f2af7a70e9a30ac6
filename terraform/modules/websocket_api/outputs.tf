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
  description = "Available only once the HTTPS listener forwards to it: ECS refuses a target group without a load balancer."
  value       = aws_lb_target_group.gateway.arn
  depends_on  = [aws_lb_listener.https]
}

output "target_group_arn_suffix" {
  value = aws_lb_target_group.gateway.arn_suffix
}

output "https_listener_arn" {
  value = aws_lb_listener.https.arn
}

output "websocket_url" {
  description = "The websocket endpoint (protocol v1 path /ws): VITE_VOLSURF_WS of a dashboard served from elsewhere."
  value       = "wss://${var.api_host}/ws"
}
