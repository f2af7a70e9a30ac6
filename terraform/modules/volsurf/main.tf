# One volsurf environment: network, dashboard (S3 + CloudFront), websocket
# API (ALB), ECS services, credentials, monitoring and, optionally, MSK.
# envs/<env>/main.tf instantiates this with the env's sizes.

terraform {
  required_version = ">= 1.9.0" # cross-variable validation

  required_providers {
    aws = {
      source                = "hashicorp/aws"
      version               = ">= 6.0"
      configuration_aliases = [aws.us_east_1]
    }
  }
}

data "aws_route53_zone" "this" {
  name         = var.route53_zone_name
  private_zone = false
}

locals {
  api_host          = var.api_host != "" ? var.api_host : "api.${var.domain}"
  metrics_namespace = "Volsurf/${var.environment}"
  tags              = merge(var.tags, { Project = "volsurf", Environment = var.environment })
  split             = var.topology == "split"
  kafka_brokers     = var.enable_msk ? module.msk[0].bootstrap_brokers_tls : var.kafka_bootstrap_brokers
}

module "network" {
  source             = "../network"
  name               = var.name
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
  tags               = local.tags
}

module "static_site" {
  source          = "../static_site"
  name            = var.name
  domain          = var.domain
  api_host        = local.api_host
  route53_zone_id = data.aws_route53_zone.this.zone_id
  price_class     = var.cloudfront_price_class
  force_destroy   = !var.deletion_protection
  tags            = local.tags

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }
}

module "websocket_api" {
  source              = "../websocket_api"
  name                = var.name
  api_host            = local.api_host
  route53_zone_id     = data.aws_route53_zone.this.zone_id
  vpc_id              = module.network.vpc_id
  public_subnet_ids   = module.network.public_subnet_ids
  idle_timeout_s      = var.alb_idle_timeout_s
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

# split only: exchange credential secrets for the future ingest role and the
# Kafka brokers parameter.  The single topology reads neither (volsurf reads
# no credential: public market data only), so nothing is created for it.
module "secrets" {
  source               = "../secrets"
  name                 = var.name
  venues               = local.split ? ["deribit", "okx", "bybit", "binance"] : []
  config               = local.split ? { kafka_brokers = local.kafka_brokers } : {}
  recovery_window_days = var.deletion_protection ? 30 : 0
  tags                 = local.tags
}

module "ecs" {
  source                  = "../ecs"
  name                    = var.name
  environment             = var.environment
  vpc_id                  = module.network.vpc_id
  private_subnet_ids      = module.network.private_subnet_ids
  alb_security_group_id   = module.websocket_api.alb_security_group_id
  target_group_arn        = module.websocket_api.target_group_arn
  alb_arn_suffix          = module.websocket_api.alb_arn_suffix
  target_group_arn_suffix = module.websocket_api.target_group_arn_suffix
  topology                = var.topology
  venues                  = var.venues
  serve_cpu               = var.serve_cpu
  serve_memory            = var.serve_memory
  serve_min_count         = var.serve_min_count
  serve_max_count         = var.serve_max_count
  image_tag               = var.image_tag
  gpu_image_tag           = var.gpu_image_tag
  gpu_instance_type       = var.gpu_instance_type
  gpu_min_instances       = var.gpu_min_instances
  gpu_max_instances       = var.gpu_max_instances
  calibrator_count        = var.calibrator_count
  gateway_cpu             = var.gateway_cpu
  gateway_memory          = var.gateway_memory
  gateway_min_count       = var.gateway_min_count
  gateway_max_count       = var.gateway_max_count
  ingest_cpu              = var.ingest_cpu
  ingest_memory           = var.ingest_memory
  use_fargate_spot        = var.use_fargate_spot
  exchange_secret_arns    = module.secrets.exchange_secret_arns
  kafka_brokers_param_arn = lookup(module.secrets.config_parameter_arns, "kafka_brokers", "")
  metrics_namespace       = local.metrics_namespace
  allowed_origin          = "https://${var.domain},https://${local.api_host}"
  log_retention_days      = var.log_retention_days
  tags                    = local.tags
}

module "msk" {
  count                     = var.enable_msk ? 1 : 0
  source                    = "../msk"
  name                      = var.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.ecs.tasks_security_group_id]
  broker_instance_type      = var.msk_broker_instance_type
  log_retention_days        = var.log_retention_days
  tags                      = local.tags
}

module "observability" {
  source                  = "../observability"
  name                    = var.name
  metrics_namespace       = local.metrics_namespace
  topology                = var.topology
  service_names           = values(module.ecs.service_names)
  log_group_names         = module.ecs.log_group_names
  alarm_emails            = var.alarm_emails
  cluster_name            = module.ecs.cluster_name
  alb_arn_suffix          = module.websocket_api.alb_arn_suffix
  target_group_arn_suffix = module.websocket_api.target_group_arn_suffix
  tags                    = local.tags
}
