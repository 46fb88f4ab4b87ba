output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = aws_eks_cluster.main.name
}

output "cluster_endpoint" {
  description = "EKS API server endpoint."
  value       = aws_eks_cluster.main.endpoint
}

output "region" {
  description = "Region everything was created in."
  value       = local.region
}

output "vpc_id" {
  description = "VPC id."
  value       = aws_vpc.main.id
}

output "private_subnet_ids" {
  description = "Private subnets (EKS nodes)."
  value       = aws_subnet.private[*].id
}

output "ecr_repository_urls" {
  description = "ECR repository URLs by image (operator, training)."
  value       = { for k, r in aws_ecr_repository.main : k => r.repository_url }
}

output "logs_bucket" {
  description = "S3 bucket for operator logs."
  value       = aws_s3_bucket.logs.id
}

output "ml_artifacts_bucket" {
  description = "S3 bucket for models (prefix models/)."
  value       = aws_s3_bucket.ml_artifacts.id
}

output "operator_log_group" {
  description = "CloudWatch log group of the operator: its container logs (Fluent Bit) and its audit stream (chart value audit.logGroup)."
  value       = aws_cloudwatch_log_group.operator.name
}

output "fluent_bit_role_arn" {
  description = "IRSA role of Fluent Bit (container logs into operator_log_group); null when container_logs_enabled is false."
  value       = var.container_logs_enabled ? aws_iam_role.fluent_bit[0].arn : null
}

output "container_log_paths" {
  description = "Container log files Fluent Bit ships (one pattern per namespace, or all of them)."
  value       = local.container_log_paths
}

output "mongodb_uri_parameter" {
  description = "SSM parameter holding the MongoDB URI; pass mongodb.uri=ssm://<this name> to the chart."
  value       = aws_ssm_parameter.mongodb_uri.name
}

output "operator_role_arn" {
  description = "IRSA role of the operator: chart value serviceAccount.roleArn."
  value       = aws_iam_role.operator.arn
}

output "training_role_arn" {
  description = "IRSA role of the training job: chart value training.serviceAccount.roleArn."
  value       = aws_iam_role.training.arn
}

output "github_deploy_role_arn" {
  description = "Role for GitHub Actions (repository variable AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.deploy.arn
}

output "kms_key_arn" {
  description = "Customer-managed KMS key encrypting EKS secrets, ECR, S3, logs and SSM."
  value       = aws_kms_key.main.arn
}
