# Production.  image_tag / gpu_image_tag are normally passed by the deploy
# job: terraform apply -var image_tag=$GIT_SHA -var gpu_image_tag=$GIT_SHA
domain            = "volsurf.example.com"
route53_zone_name = "example.com"
image_tag         = "0.1.0"
gpu_image_tag     = "0.1.0"
alarm_emails      = ["oncall@example.com"]

# One Fargate service running `volsurf serve --role all`: the topology the
# binary supports today.  topology = "split" (gateway / ingest / calibrator)
# needs the Kafka roles, which are not built yet, plus enable_msk = true or
# kafka_bootstrap_brokers = "b-1.example:9094,b-2.example:9094".
topology   = "single"
enable_msk = false
