"""Adapters at the edges: the Kubernetes API, MongoDB, S3 and SSM. Domain code never imports these."""
