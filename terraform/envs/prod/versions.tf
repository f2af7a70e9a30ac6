terraform {
  required_version = ">= 1.10.0" # S3 backend native locking (use_lockfile)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25"
    }
  }

  # Partial configuration: bucket and region come from backend.hcl
  # (copy backend.hcl.example), so no account id is committed.
  backend "s3" {
    key          = "volsurf/prod/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
