"""`kubectl remediator`: list, explain, approve, reject, judge and pause remediations as yourself.

The plugin talks to the API server with the user's own kubeconfig and context, so RBAC and the admission
policies judge the user (never the operator's identity). `render` is pure (text in, text out), `kube` is
the only module that talks to the cluster, and `cli` ties them together with the exit codes.
"""
