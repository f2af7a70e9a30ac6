module "volsurf" {
  source = "../../modules/volsurf"

  name                     = "volsurf-${var.environment}"
  environment              = var.environment
  domain                   = var.domain
  route53_zone_name        = var.route53_zone_name
  topology                 = var.topology
  venues                   = var.venues
  serve_cpu                = var.serve_cpu
  serve_memory             = var.serve_memory
  serve_min_count          = var.serve_min_count
  serve_max_count          = var.serve_max_count
  image_tag                = var.image_tag
  gpu_image_tag            = var.gpu_image_tag
  gpu_instance_type        = var.gpu_instance_type
  gpu_min_instances        = var.gpu_min_instances
  gpu_max_instances        = var.gpu_max_instances
  calibrator_count         = var.calibrator_count
  gateway_cpu              = var.gateway_cpu
  gateway_memory           = var.gateway_memory
  gateway_min_count        = var.gateway_min_count
  gateway_max_count        = var.gateway_max_count
  use_fargate_spot         = var.use_fargate_spot
  enable_msk               = var.enable_msk
  msk_broker_instance_type = var.msk_broker_instance_type
  kafka_bootstrap_brokers  = var.kafka_bootstrap_brokers
  single_nat_gateway       = var.single_nat_gateway
  log_retention_days       = var.log_retention_days
  alarm_emails             = var.alarm_emails
  deletion_protection      = var.deletion_protection

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }
}
