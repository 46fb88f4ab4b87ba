"""kube-remediator: a Kubernetes operator that classifies workload failures and remediates them within bounds."""

__version__ = "0.1.0"
