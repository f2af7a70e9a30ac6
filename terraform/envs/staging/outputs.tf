output "dashboard_url" {
  value = module.volsurf.dashboard_url
}

output "dashboard_bucket" {
  value = module.volsurf.dashboard_bucket
}

output "cloudfront_distribution_id" {
  value = module.volsurf.cloudfront_distribution_id
}

output "websocket_url" {
  value = module.volsurf.websocket_url
}

output "ecr_repository_urls" {
  value = module.volsurf.ecr_repository_urls
}

output "ecs_cluster_name" {
  value = module.volsurf.ecs_cluster_name
}

output "alarm_topic_arn" {
  value = module.volsurf.alarm_topic_arn
}

output "cloudwatch_dashboard" {
  value = module.volsurf.cloudwatch_dashboard
}
