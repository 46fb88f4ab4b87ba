"""A local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) as processes."""
