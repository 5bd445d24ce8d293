"""DNS resolve: does a name resolve (through a given name server, such as the ISP's own resolver), to the
expected address when one is given? Through dnspython's asyncio resolver."""

from dataclasses import dataclass, field
from time import perf_counter

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

from ispb_monitor.checks.result import CheckResult, milliseconds_since, within
from ispb_notify import OutboundPolicy

__all__ = ("DnsCheck", "check_dns")

RECORD_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "TXT")


@dataclass(frozen=True)
class DnsCheck:
    name: str
    record_type: str = "A"
    server: str = ""
    """The name server's address; empty: the system's resolvers (``/etc/resolv.conf``)."""
    port: int = 53
    expect: frozenset[str] = field(default_factory=frozenset)
    """Values of which at least one must be in the answer (an address, a host name); empty: any answer."""
    timeout: float = 5.0
    slow_ms: float | None = None


def _resolver(check: DnsCheck) -> dns.asyncresolver.Resolver:
    if not check.server:
        return dns.asyncresolver.Resolver()
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [check.server]
    resolver.port = check.port
    return resolver


async def check_dns(check: DnsCheck, *, policy: OutboundPolicy | None = None) -> CheckResult:
    """Up when the name resolves (to one of ``expect``, when given); down on NXDOMAIN, no answer, a timeout."""
    if check.record_type not in RECORD_TYPES:
        return CheckResult.down(f"record type {check.record_type!r} is not one of {', '.join(RECORD_TYPES)}")
    rules = policy if policy is not None else OutboundPolicy()
    if check.server:
        try:
            refusal = rules.refusal(check.server, check.server, check.port)
        except ValueError:
            return CheckResult.down(f"the name server must be an address, not {check.server!r}")
        if refusal is not None:
            return CheckResult.down(f"{refusal}; ask your platform administrator to allow it")

    async def probe() -> CheckResult:
        start = perf_counter()
        try:
            answer = await _resolver(check).resolve(check.name, check.record_type, lifetime=check.timeout)
        except dns.resolver.NXDOMAIN:
            return CheckResult.down(f"{check.name} does not exist (NXDOMAIN)", milliseconds_since(start))
        except dns.resolver.NoAnswer:
            return CheckResult.down(f"{check.name} has no {check.record_type} record", milliseconds_since(start))
        except dns.resolver.NoNameservers as error:
            return CheckResult.down(f"no name server answered: {error}", milliseconds_since(start))
        except dns.exception.Timeout:
            return CheckResult.down(f"no name server answered within {check.timeout:g} s")
        except (dns.exception.DNSException, OSError) as error:
            return CheckResult.down(f"resolving {check.name} failed: {error}")
        latency = milliseconds_since(start)
        values = sorted(_text(record) for record in answer)
        if check.expect and not check.expect.intersection(values):
            return CheckResult.down(
                f"{check.name} resolves to {', '.join(values)}, not {', '.join(sorted(check.expect))}", latency
            )
        return CheckResult.up(latency, f"{check.name} → {', '.join(values[:3])}").slower_than(check.slow_ms)

    return await within(check.timeout + 0.5, probe, check.name)


def _text(record: object) -> str:
    text = record.to_text() if hasattr(record, "to_text") else str(record)
    return text.rstrip(".").strip('"').lower() if isinstance(text, str) else str(text)
