# Staging: same topology as prod, smallest sizes, Fargate Spot, one NAT
# (in split, a GPU ASG that may sit at 0 instances).
domain            = "staging.volsurf.example.com"
route53_zone_name = "example.com"
image_tag         = "0.1.0"
gpu_image_tag     = "0.1.0"
alarm_emails      = []

# One Fargate service running `volsurf serve --role all`: the topology the
# binary supports today.  topology = "split" (gateway / ingest / calibrator)
# needs the Kafka roles, which are not built yet, plus enable_msk = true or
# kafka_bootstrap_brokers = "b-1.example:9094,b-2.example:9094".
topology   = "single"
enable_msk = false
