output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "service_names" {
  value = {
    gateway    = aws_ecs_service.gateway.name
    ingest     = aws_ecs_service.ingest.name
    calibrator = aws_ecs_service.calibrator.name
  }
}

output "log_group_names" {
  description = "role -> log group"
  value       = { for k, g in aws_cloudwatch_log_group.role : k => g.name }
}

output "ecr_repository_urls" {
  value = {
    cpu = aws_ecr_repository.cpu.repository_url
    gpu = aws_ecr_repository.gpu.repository_url
  }
}

output "tasks_security_group_id" {
  value = aws_security_group.tasks.id
}

output "gpu_autoscaling_group_name" {
  value = aws_autoscaling_group.gpu.name
}
