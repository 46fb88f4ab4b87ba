"""The one error type the local control plane raises: its message says what to do."""


class DevClusterError(RuntimeError):
    pass
