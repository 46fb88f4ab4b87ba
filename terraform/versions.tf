terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
    # Fluent Bit for container logs (logging.tf). 2.x: 3.x changed the provider's block syntax.
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.17"
    }
  }

  # State backend: configure per environment, e.g. `terraform init -backend-config=backend.hcl` with an
  # S3 bucket and DynamoDB lock table you own (see docs/deploy.md).
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Project   = var.name
      ManagedBy = "terraform"
    })
  }
}
