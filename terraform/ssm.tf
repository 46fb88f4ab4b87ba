# MongoDB credentials as SecureString parameters (KMS). The operator reads the URI through
# REMEDIATOR_MONGODB_URI=ssm://<ssm_prefix>/mongodb/uri. When var.mongodb_uri is null a placeholder is written
# and Terraform never reads the real value back (set it with `aws ssm put-parameter --overwrite`).

resource "aws_ssm_parameter" "mongodb_uri" {
  name        = "${var.ssm_prefix}/mongodb/uri"
  description = "MongoDB connection URI of the kube-remediator feedback store"
  type        = "SecureString"
  key_id      = aws_kms_key.main.arn
  value       = coalesce(var.mongodb_uri, "placeholder: set with aws ssm put-parameter --overwrite")

  lifecycle {
    ignore_changes = [value]
  }
}
