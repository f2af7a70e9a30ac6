# Production.  image_tag / gpu_image_tag are normally passed by the deploy
# job: terraform apply -var image_tag=$GIT_SHA -var gpu_image_tag=$GIT_SHA
domain            = "volsurf.example.com"
route53_zone_name = "example.com"
image_tag         = "0.1.0"
gpu_image_tag     = "0.1.0"
alarm_emails      = ["oncall@example.com"]

# The split roles talk through Kafka: either MSK here, or enable_msk = false
# and kafka_bootstrap_brokers = "b-1.example:9094,b-2.example:9094".
enable_msk = true
