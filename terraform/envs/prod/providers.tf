provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "volsurf"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

# CloudFront only takes ACM certificates from us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = {
      Project     = "volsurf"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
