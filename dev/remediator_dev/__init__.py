"""kube-remediator's developer tooling: the local control plane and the demo (checkout only, never shipped)."""
