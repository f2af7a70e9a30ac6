# Staging: same topology, smallest sizes, Fargate Spot, one NAT, GPU ASG
# that may sit at 0 instances (the calibrator task scales it to 1).
domain            = "staging.volsurf.example.com"
route53_zone_name = "example.com"
image_tag         = "0.1.0"
gpu_image_tag     = "0.1.0"
alarm_emails      = []
