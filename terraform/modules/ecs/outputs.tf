output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "topology" {
  value = var.topology
}

output "service_names" {
  description = "ECS service -> name (single: volsurf; split: gateway, ingest, calibrator)."
  value = merge(
    { for s in aws_ecs_service.volsurf : "volsurf" => s.name },
    { for s in aws_ecs_service.gateway : "gateway" => s.name },
    { for s in aws_ecs_service.ingest : "ingest" => s.name },
    { for s in aws_ecs_service.calibrator : "calibrator" => s.name },
  )
}

output "service_roles" {
  description = "ECS service -> the --role it runs, which is the EMF Role dimension of its metrics."
  value       = local.service_roles
}

output "log_group_names" {
  description = "service -> log group"
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
  description = "split only; null in single."
  value       = one(aws_autoscaling_group.gpu[*].name)
}
