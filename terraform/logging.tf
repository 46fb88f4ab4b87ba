# Container logs to CloudWatch Logs with no code of ours in the path: Fluent Bit (the aws-for-fluent-bit Helm
# chart, a DaemonSet) tails the operator's container log files on each node and ships them into the log group
# of cloudwatch.tf, which keeps its retention and KMS key (Fluent Bit neither creates groups nor sets
# retention here).
#
# Why this chart and not the amazon-cloudwatch-observability EKS add-on: the add-on is built around Container
# Insights: it also runs the CloudWatch agent (node and Pod metrics, billed), writes container logs to its own
# /aws/containerinsights/<cluster>/* groups that it creates itself, and its Fluent Bit configuration is one
# opaque block of the add-on's configuration schema. The chart's values name exactly what we need: the tail
# path (so only the chosen namespaces' files are ever read), the target group, no group creation, and an IRSA
# ServiceAccount. The cost: the Helm provider must reach the EKS API from where Terraform runs (the public
# endpoint with restricted CIDRs, or a runner in the VPC), as the chart deploy already must; with neither, set
# container_logs_enabled = false.

locals {
  # Kubelet log file names are <pod>_<namespace>_<container>-<id>.log; neither Pod nor namespace names may
  # contain "_", so "*_<namespace>_*" matches exactly that namespace's containers.
  container_log_namespaces = distinct(concat([var.operator_namespace], var.container_logs_namespaces))
  container_log_paths = var.container_logs_all_namespaces ? "/var/log/containers/*.log" : join(",", [
    for ns in local.container_log_namespaces : "/var/log/containers/*_${ns}_*.log"
  ])
  fluent_bit_service_account = "aws-for-fluent-bit"
}

data "aws_eks_cluster_auth" "main" {
  name = aws_eks_cluster.main.name
}

provider "helm" {
  kubernetes {
    host                   = aws_eks_cluster.main.endpoint
    cluster_ca_certificate = base64decode(aws_eks_cluster.main.certificate_authority[0].data)
    token                  = data.aws_eks_cluster_auth.main.token
  }
}

# -- IRSA: Fluent Bit's ServiceAccount may only write streams of the operator's log group --------------------
data "aws_iam_policy_document" "fluent_bit_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.eks.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.fluent_bit_namespace}:${local.fluent_bit_service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.${local.dns_suffix}"]
    }
  }
}

data "aws_iam_policy_document" "fluent_bit" {
  # The group's ARN without the ":*" the API adds; streams are "<group>:log-stream:<name>". No KMS permission
  # is needed: CloudWatch Logs itself uses the key (main.tf's key policy), not the writer.
  statement {
    sid       = "WriteOperatorLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.operator.arn}:*", "${aws_cloudwatch_log_group.operator.arn}:log-stream:*"]
  }
}

resource "aws_iam_role" "fluent_bit" {
  count              = var.container_logs_enabled ? 1 : 0
  name               = "${var.name}-fluent-bit"
  description        = "IRSA role of Fluent Bit (${var.fluent_bit_namespace}/${local.fluent_bit_service_account}): container logs into ${aws_cloudwatch_log_group.operator.name}"
  assume_role_policy = data.aws_iam_policy_document.fluent_bit_assume.json
}

resource "aws_iam_role_policy" "fluent_bit" {
  count  = var.container_logs_enabled ? 1 : 0
  name   = "fluent-bit"
  role   = aws_iam_role.fluent_bit[0].id
  policy = data.aws_iam_policy_document.fluent_bit.json
}

# -- Fluent Bit ----------------------------------------------------------------------------------------------
resource "helm_release" "fluent_bit" {
  count            = var.container_logs_enabled ? 1 : 0
  name             = "aws-for-fluent-bit"
  repository       = "https://aws.github.io/eks-charts"
  chart            = "aws-for-fluent-bit"
  version          = var.fluent_bit_chart_version
  namespace        = var.fluent_bit_namespace
  create_namespace = true
  atomic           = true
  timeout          = 600

  values = [yamlencode({
    serviceAccount = {
      create      = true
      name        = local.fluent_bit_service_account
      annotations = { "eks.amazonaws.com/role-arn" = aws_iam_role.fluent_bit[0].arn }
    }
    input = {
      path = local.container_log_paths
    }
    cloudWatchLogs = {
      enabled           = true
      region            = local.region
      logGroupName      = aws_cloudwatch_log_group.operator.name
      logGroupTemplate  = null # one group: ours
      logStreamPrefix   = var.container_log_stream_prefix
      logStreamTemplate = null
      autoCreateGroup   = false # the group is this file's, with its retention and key
      logRetentionDays  = null  # retention is cloudwatch.tf's, never Fluent Bit's
      # Fluent Bit's default is ONE retry, then the chunk is dropped: retry through an outage instead (the
      # tail pauses at its memory limit meanwhile and resumes from its file offsets).
      extraOutputs = "Retry_Limit no_limits"
    }
    # The other outputs the chart knows stay off.
    cloudWatch    = { enabled = false }
    firehose      = { enabled = false }
    kinesis       = { enabled = false }
    elasticsearch = { enabled = false }
  })]

  depends_on = [aws_eks_node_group.main, aws_iam_role_policy.fluent_bit]
}
