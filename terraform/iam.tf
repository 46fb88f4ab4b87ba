# IRSA roles for the operator and the training job, and the GitHub Actions OIDC deploy role.

locals {
  oidc_issuer     = replace(aws_eks_cluster.main.identity[0].oidc[0].issuer, "https://", "")
  logs_bucket     = aws_s3_bucket.logs.arn
  models_bucket   = aws_s3_bucket.ml_artifacts.arn
  ssm_params_arn  = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.ssm_prefix}/*"
  github_oidc_url = "token.actions.githubusercontent.com"
  github_oidc_arn = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : "arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.github_oidc_url}"
}

# -- IRSA trust: exactly one ServiceAccount per role ---------------------------------------------------------
data "aws_iam_policy_document" "irsa_assume" {
  for_each = {
    operator = var.operator_service_account
    training = var.training_service_account
  }

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.eks.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.operator_namespace}:${each.value}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.${local.dns_suffix}"]
    }
  }
}

# -- operator: read models, write its logs and audit stream, read its parameters -----------------------------
data "aws_iam_policy_document" "operator" {
  statement {
    sid       = "ReadModels"
    actions   = ["s3:GetObject"]
    resources = ["${local.models_bucket}/models/*"]
  }
  statement {
    sid       = "ListModels"
    actions   = ["s3:ListBucket"]
    resources = [local.models_bucket]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["models/*"]
    }
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["s3:PutObject"]
    resources = ["${local.logs_bucket}/operator/*"]
  }
  statement {
    sid       = "ReadParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = [local.ssm_params_arn]
  }
  # The audit stream (chart value audit.logGroup): its own stream in its own group, nothing else.
  statement {
    sid       = "WriteAuditStream"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.operator.arn}:*", "${aws_cloudwatch_log_group.operator.arn}:log-stream:*"]
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

resource "aws_iam_role" "operator" {
  name               = "${var.name}-operator"
  description        = "IRSA role of the kube-remediator operator (${var.operator_namespace}/${var.operator_service_account})"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["operator"].json
}

resource "aws_iam_role_policy" "operator" {
  name   = "operator"
  role   = aws_iam_role.operator.id
  policy = data.aws_iam_policy_document.operator.json
}

# -- training: read logs, read and write models, read parameters ---------------------------------------------
data "aws_iam_policy_document" "training" {
  statement {
    sid       = "ReadLogs"
    actions   = ["s3:GetObject"]
    resources = ["${local.logs_bucket}/operator/*"]
  }
  statement {
    sid       = "ReadWriteModels"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.models_bucket}/models/*"]
  }
  statement {
    sid       = "ListLogsAndModels"
    actions   = ["s3:ListBucket"]
    resources = [local.logs_bucket, local.models_bucket]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["operator/*", "models/*"]
    }
  }
  statement {
    sid       = "ReadParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = [local.ssm_params_arn]
  }
  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
}

resource "aws_iam_role" "training" {
  name               = "${var.name}-training"
  description        = "IRSA role of the kube-remediator training CronJob (${var.operator_namespace}/${var.training_service_account})"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["training"].json
}

resource "aws_iam_role_policy" "training" {
  name   = "training"
  role   = aws_iam_role.training.id
  policy = data.aws_iam_policy_document.training.json
}

# -- GitHub Actions: OIDC provider and the deploy role (main branch of one repository only) ------------------
data "tls_certificate" "github" {
  count = var.create_github_oidc_provider ? 1 : 0
  url   = "https://${local.github_oidc_url}/.well-known/openid-configuration"
}

resource "aws_iam_openid_connect_provider" "github" {
  count           = var.create_github_oidc_provider ? 1 : 0
  url             = "https://${local.github_oidc_url}"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = [data.tls_certificate.github[0].certificates[length(data.tls_certificate.github[0].certificates) - 1].sha1_fingerprint]
}

data "aws_iam_policy_document" "deploy_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_url}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_url}:sub"
      values   = ["repo:${var.github_repository}:ref:refs/heads/main"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.name}-github-deploy"
  description          = "GitHub Actions (${var.github_repository}, main branch): push images to ECR and deploy the chart to EKS"
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "deploy" {
  # GetAuthorizationToken cannot be scoped to a repository (AWS requires "*").
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "EcrPush"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [for r in aws_ecr_repository.main : r.arn]
  }
  statement {
    sid       = "EcrKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }
  statement {
    sid       = "DescribeCluster"
    actions   = ["eks:DescribeCluster"]
    resources = [aws_eks_cluster.main.arn]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
