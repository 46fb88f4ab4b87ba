# Shared lookups and the customer-managed KMS key that encrypts everything at rest (EKS secrets, ECR, S3,
# CloudWatch Logs, SSM). Each concern lives in its own file: network.tf, eks.tf, ecr.tf, s3.tf, logging.tf,
# cloudwatch.tf, ssm.tf, iam.tf.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  azs        = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  dns_suffix = data.aws_partition.current.dns_suffix
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_111:This is a KMS key policy: "*" means this key only, and write access is limited to the account root and to CloudWatch Logs with an encryption-context condition.
  #checkov:skip=CKV_AWS_356:This is a KMS key policy, where the resource "*" can only mean the key it is attached to.
  #checkov:skip=CKV_AWS_109:This is a KMS key policy: only the account root administers the key (the AWS-recommended default statement that lets IAM policies govern its use).
  # The account administers the key (IAM policies then grant use of it).
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts the log groups of this account with it.
  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.${local.dns_suffix}"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "main" {
  description             = "${var.name}: EKS secrets, ECR, S3, CloudWatch Logs and SSM parameters"
  deletion_window_in_days = 30
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.main.key_id
}
