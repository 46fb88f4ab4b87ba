# Log groups: the operator's (its container logs, shipped by Fluent Bit from logging.tf, and its audit stream
# of decisions) and the EKS control plane's (created before the cluster so they carry our retention and KMS key).

resource "aws_cloudwatch_log_group" "operator" {
  name              = "/${var.name}/operator"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_cloudwatch_log_group" "eks" {
  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}
