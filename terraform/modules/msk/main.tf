# Optional Amazon MSK for the scale-out topology (ingest -> quotes topic ->
# calibrator -> surfaces topic -> gateways).  The root module instantiates it
# with count = var.enable_msk ? 1 : 0.  Clients reach the brokers over TLS on
# 9094 from the task security group only; topics are created by the service
# (quotes keyed by instrument; surfaces keyed by asset, compacted).

resource "aws_security_group" "brokers" {
  name_prefix = "${var.name}-msk-"
  description = "MSK brokers: TLS from volsurf tasks"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-msk" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "tls_from_tasks" {
  for_each                     = toset(var.client_security_group_ids)
  security_group_id            = aws_security_group.brokers.id
  description                  = "Kafka TLS from volsurf tasks"
  ip_protocol                  = "tcp"
  from_port                    = 9094
  to_port                      = 9094
  referenced_security_group_id = each.value
}

resource "aws_cloudwatch_log_group" "brokers" {
  name              = "/${var.name}/msk"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_msk_configuration" "this" {
  name           = "${var.name}-kafka"
  kafka_versions = [var.kafka_version]
  server_properties = join("\n", [
    "auto.create.topics.enable=false",
    "default.replication.factor=${min(3, length(var.subnet_ids) * var.brokers_per_az)}",
    "min.insync.replicas=${max(1, min(2, length(var.subnet_ids) * var.brokers_per_az - 1))}",
    "num.partitions=6",
    "log.retention.hours=24",
  ])
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = length(var.subnet_ids) * var.brokers_per_az
  tags                   = var.tags

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.brokers.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.broker_volume_gib
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  encryption_info {
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.brokers.name
      }
    }
  }
}
