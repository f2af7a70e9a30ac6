output "bucket_name" {
  description = "Upload the built dashboard here (see docs/deploy.md for cache headers)."
  value       = aws_s3_bucket.site.bucket
}

output "distribution_id" {
  value = aws_cloudfront_distribution.site.id
}

output "distribution_domain_name" {
  value = aws_cloudfront_distribution.site.domain_name
}

output "url" {
  value = "https://${var.domain}"
}
