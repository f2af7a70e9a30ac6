# Staging: same topology, smallest sizes, Fargate Spot, one NAT, GPU ASG
# that may sit at 0 instances (the calibrator task scales it to 1).
domain            = "staging.volsurf.example.com"
route53_zone_name = "example.com"
image_tag         = "0.1.0"
gpu_image_tag     = "0.1.0"
alarm_emails      = []

# The split roles talk through Kafka: either MSK here, or enable_msk = false
# and kafka_bootstrap_brokers = "b-1.example:9094,b-2.example:9094".
enable_msk = true
