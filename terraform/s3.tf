# Buckets: access-logs (the server-access-log target), logs (operator logs) and ml-artifacts (models).
# All: versioning, public access blocked, TLS-only policy, lifecycle; logs and ml-artifacts: SSE-KMS and
# server access logging into the access-logs bucket.

locals {
  bucket_prefix = "${var.name}-${local.account_id}-${local.region}"
  buckets = {
    access_logs  = "${local.bucket_prefix}-access-logs"
    logs         = "${local.bucket_prefix}-logs"
    ml_artifacts = "${local.bucket_prefix}-ml-artifacts"
  }
}

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice left to the account owner; models are rebuilt by the training job and logs are not business-critical.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications exists; the operator and training read by key.
  #checkov:skip=CKV_AWS_18:This is the server-access-log target bucket; logging it into itself would loop.
  #checkov:skip=CKV_AWS_145:S3 server access log delivery does not support SSE-KMS target buckets, so this bucket uses SSE-S3 (AES256).
  bucket        = local.buckets.access_logs
  force_destroy = false
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice left to the account owner; models are rebuilt by the training job and logs are not business-critical.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications exists; the operator and training read by key.
  bucket        = local.buckets.logs
  force_destroy = false
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket" "ml_artifacts" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice left to the account owner; models are rebuilt by the training job and logs are not business-critical.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications exists; the operator and training read by key.
  bucket        = local.buckets.ml_artifacts
  force_destroy = false
}

resource "aws_s3_bucket_public_access_block" "ml_artifacts" {
  bucket                  = aws_s3_bucket.ml_artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "ml_artifacts" {
  bucket = aws_s3_bucket.ml_artifacts.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "ml_artifacts" {
  bucket = aws_s3_bucket.ml_artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

locals {
  bucket_arns = {
    access_logs  = aws_s3_bucket.access_logs.arn
    logs         = aws_s3_bucket.logs.arn
    ml_artifacts = aws_s3_bucket.ml_artifacts.arn
  }
  bucket_ids = {
    access_logs  = aws_s3_bucket.access_logs.id
    logs         = aws_s3_bucket.logs.id
    ml_artifacts = aws_s3_bucket.ml_artifacts.id
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "ml_artifacts" {
  bucket = aws_s3_bucket.ml_artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_logging" "logs" {
  bucket        = aws_s3_bucket.logs.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "logs/"
}

resource "aws_s3_bucket_logging" "ml_artifacts" {
  bucket        = aws_s3_bucket.ml_artifacts.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "ml-artifacts/"
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_bucket_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.access_logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "tier-and-expire-logs"
    status = "Enabled"
    filter {}
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    expiration {
      days = var.log_bucket_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "ml_artifacts" {
  bucket = aws_s3_bucket.ml_artifacts.id
  rule {
    id     = "expire-replaced-models"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.model_noncurrent_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.ml_artifacts]
}

# Deny any request that is not over TLS; the access-logs bucket also admits the S3 logging service.
data "aws_iam_policy_document" "bucket" {
  for_each = local.bucket_arns

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value, "${each.value}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = each.key == "access_logs" ? [1] : []
    content {
      sid       = "S3ServerAccessLogsDelivery"
      actions   = ["s3:PutObject"]
      resources = ["${each.value}/*"]
      principals {
        type        = "Service"
        identifiers = ["logging.s3.${local.dns_suffix}"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "main" {
  for_each = local.bucket_ids
  bucket   = each.value
  policy   = data.aws_iam_policy_document.bucket[each.key].json

  depends_on = [
    aws_s3_bucket_public_access_block.access_logs,
    aws_s3_bucket_public_access_block.logs,
    aws_s3_bucket_public_access_block.ml_artifacts,
  ]
}
