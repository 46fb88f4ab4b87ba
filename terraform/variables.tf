variable "name" {
  description = "Name prefix of every resource (EKS cluster, buckets, roles, repositories)."
  type        = string
  default     = "kube-remediator"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  description = "AWS region to deploy into (e.g. the one closest to your users)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like an AWS region code."
  }
}

variable "tags" {
  description = "Extra tags put on every resource."
  type        = map(string)
  default     = {}
}

# -- network -------------------------------------------------------------------------------------------------
variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a valid IPv4 CIDR of /20 or larger."
  }
}

variable "az_count" {
  description = "Availability zones to spread subnets (and nodes) over."
  type        = number
  default     = 3

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4 (EKS needs at least two)."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all private subnets (cheaper) instead of one per availability zone (resilient)."
  type        = bool
  default     = true
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow logs in CloudWatch."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch retention value of at least 365."
  }
}

# -- EKS -----------------------------------------------------------------------------------------------------
variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.33."
  }
}

variable "endpoint_public_access" {
  description = "Expose the EKS API endpoint publicly (restricted to endpoint_public_access_cidrs). false = private endpoint only: then deploy from a runner inside the VPC."
  type        = bool
  default     = false
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public EKS API endpoint (only used when endpoint_public_access is true)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.endpoint_public_access_cidrs : can(cidrnetmask(c)) && c != "0.0.0.0/0"])
    error_message = "endpoint_public_access_cidrs must be valid CIDRs and must not contain 0.0.0.0/0."
  }
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m6i.large"]

  validation {
    condition     = length(var.node_instance_types) > 0
    error_message = "node_instance_types must list at least one instance type."
  }
}

variable "node_min_size" {
  description = "Minimum nodes of the managed node group."
  type        = number
  default     = 2

  validation {
    condition     = var.node_min_size >= 1
    error_message = "node_min_size must be at least 1."
  }
}

variable "node_desired_size" {
  description = "Desired nodes of the managed node group (ignored after creation so autoscalers can change it)."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Maximum nodes of the managed node group."
  type        = number
  default     = 6

  validation {
    condition     = var.node_max_size >= 1 && var.node_max_size <= 100
    error_message = "node_max_size must be between 1 and 100."
  }
}

variable "node_disk_size_gib" {
  description = "Root volume size of each node, in GiB (encrypted)."
  type        = number
  default     = 50

  validation {
    condition     = var.node_disk_size_gib >= 20
    error_message = "node_disk_size_gib must be at least 20."
  }
}

# -- logs, artifacts, parameters -----------------------------------------------------------------------------
variable "log_retention_days" {
  description = "Retention of the operator's and the control plane's CloudWatch log groups."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value of at least 365."
  }
}

variable "container_logs_enabled" {
  description = "Install Fluent Bit (logging.tf) to ship container logs into the operator's log group. Terraform must reach the EKS API (public endpoint with restricted CIDRs, or run inside the VPC)."
  type        = bool
  default     = true
}

variable "container_logs_namespaces" {
  description = "Namespaces whose container logs are shipped into the operator's log group besides the operator's own (operator_namespace always is)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for ns in var.container_logs_namespaces : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", ns))])
    error_message = "container_logs_namespaces must be valid Kubernetes namespace names."
  }
}

variable "container_logs_all_namespaces" {
  description = "Ship the container logs of EVERY namespace (every tenant's) into the operator's log group. Off: only the namespaces above."
  type        = bool
  default     = false
}

variable "container_log_stream_prefix" {
  description = "Prefix of the container log streams Fluent Bit creates in the operator's log group (the audit stream is named after the operator's Pod, so the two never mix)."
  type        = string
  default     = "containers."

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]{1,64}$", var.container_log_stream_prefix))
    error_message = "container_log_stream_prefix must be 1-64 characters of letters, digits, . _ / -."
  }
}

variable "fluent_bit_namespace" {
  description = "Namespace Fluent Bit is installed into (created if missing)."
  type        = string
  default     = "amazon-cloudwatch"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.fluent_bit_namespace))
    error_message = "fluent_bit_namespace must be a valid Kubernetes namespace name."
  }
}

variable "fluent_bit_chart_version" {
  description = "Version of the aws-for-fluent-bit Helm chart (pinned: an upgrade is a reviewed change)."
  type        = string
  default     = "0.2.0"
}

variable "log_bucket_expiration_days" {
  description = "Days after which objects in the logs bucket expire (noncurrent versions expire 30 days later)."
  type        = number
  default     = 400

  validation {
    condition     = var.log_bucket_expiration_days >= 30
    error_message = "log_bucket_expiration_days must be at least 30."
  }
}

variable "model_noncurrent_days" {
  description = "Days a replaced model version is kept in the ml-artifacts bucket (for rollback)."
  type        = number
  default     = 180

  validation {
    condition     = var.model_noncurrent_days >= 7
    error_message = "model_noncurrent_days must be at least 7."
  }
}

variable "ssm_prefix" {
  description = "SSM Parameter Store path prefix of the operator's parameters (no trailing slash)."
  type        = string
  default     = "/kube-remediator"

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./-]+[^/]$", var.ssm_prefix))
    error_message = "ssm_prefix must start with / and not end with /."
  }
}

variable "mongodb_uri" {
  description = "MongoDB connection URI stored as a SecureString. null = a placeholder you overwrite out of band (it is then never read back into Terraform)."
  type        = string
  default     = null
  sensitive   = true
}

# -- workloads and CI ----------------------------------------------------------------------------------------
variable "operator_namespace" {
  description = "Kubernetes namespace of the Helm release."
  type        = string
  default     = "kube-remediator"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.operator_namespace))
    error_message = "operator_namespace must be a valid Kubernetes namespace name."
  }
}

variable "operator_service_account" {
  description = "ServiceAccount name of the operator (the chart's default is the release's full name)."
  type        = string
  default     = "kube-remediator"
}

variable "training_service_account" {
  description = "ServiceAccount name of the training CronJob."
  type        = string
  default     = "kube-remediator-training"
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose main branch may push images and deploy."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub Actions OIDC provider (false when the account already has one)."
  type        = bool
  default     = true
}

variable "ecr_keep_images" {
  description = "Images kept per ECR repository (older ones expire)."
  type        = number
  default     = 50

  validation {
    condition     = var.ecr_keep_images >= 5
    error_message = "ecr_keep_images must be at least 5."
  }
}
