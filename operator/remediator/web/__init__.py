"""`remediator api`: the HTTP service of the original design (FastAPI + Uvicorn), authenticated and authorized
by the Kubernetes API server itself (TokenReview, SubjectAccessReview, impersonation). See docs/api.md."""
