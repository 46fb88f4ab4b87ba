"""Certificates and keys for the local control plane: one CA, a serving cert, an admin client, a SA key, and
the aggregation layer's front-proxy CA and client plus metrics-server's serving cert."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True)
class PKIPaths:
    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    sa_key: Path
    sa_pub: Path

    @classmethod
    def under(cls, directory: Path) -> PKIPaths:
        return cls(
            *(
                directory / name
                for name in (
                    "ca.crt",
                    "ca.key",
                    "apiserver.crt",
                    "apiserver.key",
                    "admin.crt",
                    "admin.key",
                    "sa.key",
                    "sa.pub",
                )
            )
        )

    def complete(self) -> bool:
        return all(p.exists() for p in vars(self).values())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


def _cert(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    usages: list[x509.ObjectIdentifier],
    sans: list[x509.GeneralName],
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(signer, hashes.SHA256())


def ensure_pki(directory: Path) -> PKIPaths:
    """Create the control plane's certificates once; later calls reuse them."""
    paths = PKIPaths.under(directory)
    if paths.complete():
        return paths
    directory.mkdir(parents=True, exist_ok=True)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-remediator-dev-ca")])
    ca = _cert(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True, usages=[], sans=[])

    serving_key = ec.generate_private_key(ec.SECP256R1())
    serving = _cert(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
        ca_name,
        serving_key.public_key(),
        ca_key,
        ca=False,
        usages=[ExtendedKeyUsageOID.SERVER_AUTH],
        sans=[
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes"),
            x509.DNSName("kubernetes.default.svc"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ],
    )

    # O=system:masters makes this client a cluster admin for RBAC, as kubeadm's admin.conf is.
    admin_key = ec.generate_private_key(ec.SECP256R1())
    admin = _cert(
        x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
                x509.NameAttribute(NameOID.COMMON_NAME, "kube-remediator-dev-admin"),
            ]
        ),
        ca_name,
        admin_key.public_key(),
        ca_key,
        ca=False,
        usages=[ExtendedKeyUsageOID.CLIENT_AUTH],
        sans=[],
    )

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    _write_key(paths.ca_key, ca_key)
    paths.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_key(paths.serving_key, serving_key)
    paths.serving_cert.write_bytes(serving.public_bytes(serialization.Encoding.PEM))
    _write_key(paths.admin_key, admin_key)
    paths.admin_cert.write_bytes(admin.public_bytes(serialization.Encoding.PEM))
    _write_key(paths.sa_key, sa_key)
    paths.sa_pub.write_bytes(
        sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return paths


@dataclass(frozen=True)
class AggregationPKIPaths:
    """The aggregation layer's certificates, kept apart from PKIPaths so that adding them to an existing state
    directory never regenerates the cluster's CA: a front-proxy CA and the client cert kube-apiserver presents
    when it proxies to an extension API server (requestheader authentication), and metrics-server's serving
    cert (signed by the cluster CA, named as the aggregator dials it: <service>.<namespace>.svc)."""

    front_proxy_ca_cert: Path
    front_proxy_ca_key: Path
    front_proxy_client_cert: Path
    front_proxy_client_key: Path
    metrics_server_cert: Path
    metrics_server_key: Path

    @classmethod
    def under(cls, directory: Path) -> AggregationPKIPaths:
        return cls(
            *(
                directory / name
                for name in (
                    "front-proxy-ca.crt",
                    "front-proxy-ca.key",
                    "front-proxy-client.crt",
                    "front-proxy-client.key",
                    "metrics-server.crt",
                    "metrics-server.key",
                )
            )
        )

    def complete(self) -> bool:
        return all(p.exists() for p in vars(self).values())


FRONT_PROXY_CLIENT = "front-proxy-client"  # --requestheader-allowed-names
METRICS_SERVER_DNS = "metrics-server.kube-system.svc"


def ensure_aggregation_pki(directory: Path) -> AggregationPKIPaths:
    """Create the aggregation layer's certificates once (after ensure_pki, whose CA signs metrics-server's)."""
    paths = AggregationPKIPaths.under(directory)
    if paths.complete():
        return paths
    base = PKIPaths.under(directory)
    ca_key = serialization.load_pem_private_key(base.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{base.ca_key}: expected an EC key")
    ca_name = x509.load_pem_x509_certificate(base.ca_cert.read_bytes()).subject

    fp_ca_key = ec.generate_private_key(ec.SECP256R1())
    fp_ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-remediator-dev-front-proxy-ca")])
    fp_ca = _cert(fp_ca_name, fp_ca_name, fp_ca_key.public_key(), fp_ca_key, ca=True, usages=[], sans=[])

    fp_client_key = ec.generate_private_key(ec.SECP256R1())
    fp_client = _cert(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, FRONT_PROXY_CLIENT)]),
        fp_ca_name,
        fp_client_key.public_key(),
        fp_ca_key,
        ca=False,
        usages=[ExtendedKeyUsageOID.CLIENT_AUTH],
        sans=[],
    )

    ms_key = ec.generate_private_key(ec.SECP256R1())
    ms = _cert(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "metrics-server")]),
        ca_name,
        ms_key.public_key(),
        ca_key,
        ca=False,
        usages=[ExtendedKeyUsageOID.SERVER_AUTH],
        sans=[
            x509.DNSName(METRICS_SERVER_DNS),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ],
    )

    _write_key(paths.front_proxy_ca_key, fp_ca_key)
    paths.front_proxy_ca_cert.write_bytes(fp_ca.public_bytes(serialization.Encoding.PEM))
    _write_key(paths.front_proxy_client_key, fp_client_key)
    paths.front_proxy_client_cert.write_bytes(fp_client.public_bytes(serialization.Encoding.PEM))
    _write_key(paths.metrics_server_key, ms_key)
    paths.metrics_server_cert.write_bytes(ms.public_bytes(serialization.Encoding.PEM))
    return paths
