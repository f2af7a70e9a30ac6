# Production.  image_tag / gpu_image_tag are normally passed by the deploy
# job: terraform apply -var image_tag=$GIT_SHA -var gpu_image_tag=$GIT_SHA
domain            = "volsurf.example.com"
route53_zone_name = "example.com"
image_tag         = "0.1.0"
gpu_image_tag     = "0.1.0"
alarm_emails      = ["oncall@example.com"]
