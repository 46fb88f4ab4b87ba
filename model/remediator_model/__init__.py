"""The error classifier: features, training, evaluation, artifacts and prediction. Knows nothing of Kubernetes."""
