output "dashboard_url" {
  value = module.static_site.url
}

output "dashboard_bucket" {
  value = module.static_site.bucket_name
}

output "cloudfront_distribution_id" {
  value = module.static_site.distribution_id
}

output "websocket_url" {
  value = module.websocket_api.websocket_url
}

output "ecr_repository_urls" {
  value = module.ecs.ecr_repository_urls
}

output "ecs_cluster_name" {
  value = module.ecs.cluster_name
}

output "alarm_topic_arn" {
  value = module.observability.alarm_topic_arn
}

output "cloudwatch_dashboard" {
  value = module.observability.dashboard_name
}
