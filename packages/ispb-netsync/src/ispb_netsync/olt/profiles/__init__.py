"""Vendor profiles: one module per vendor, each with a `Profile` named in `PROFILES`."""

from ispb_netsync.olt.profiles import bdcom_epon, huawei_gpon, vsol_epon, zte_gpon
from ispb_netsync.olt.profiles.base import Decoder, Parsed, Profile, RecordingRow, Tables

PROFILES: dict[str, Profile] = {
    profile.name: profile for profile in (bdcom_epon.PROFILE, vsol_epon.PROFILE, huawei_gpon.PROFILE, zte_gpon.PROFILE)
}
"""Every profile by its stored name (``bdcom_epon``, ``vsol_epon``, ``huawei_gpon``, ``zte_gpon``)."""


def profile_for(name: str) -> Profile:
    """The profile called ``name``; ``LookupError`` naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise LookupError(f"no OLT profile {name!r}; known: {', '.join(PROFILES)}") from None


__all__ = ("PROFILES", "Decoder", "Parsed", "Profile", "RecordingRow", "Tables", "profile_for")
