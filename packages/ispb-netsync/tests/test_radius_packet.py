"""RADIUS packets against RFC 2865 §7's worked examples and the authenticator rules."""

import hashlib
import hmac
import ipaddress

import pytest

from ispb_netsync.radius import (
    Attr,
    Code,
    Packet,
    PacketError,
    attr,
    build_request,
    build_response,
    decode,
    encode,
    hide_password,
    unhide_password,
    verify_request,
    verify_response,
)

SECRET = b"xyzzy5461"
# RFC 2865 §7.1: "nemo" logs in with "arctangent" on port 3 of NAS 192.168.1.16.
RFC_7_1_AUTHENTICATOR = bytes.fromhex("0f403f9473978057bd83d5cb98f4227a")
RFC_7_1_REQUEST = bytes.fromhex(
    "01000038 0f403f9473978057bd83d5cb98f4227a 01066e656d6f 02120dbe708d93d413ce3196e43f782a0aee"
    " 0406c0a80110 050600000003"
)
RFC_7_1_ACCEPT = bytes.fromhex("02000026 86fe220e7624ba2a1005f6bf9b55e0b2 060600000001 0f0600000000 0e06c0a80103")
# RFC 2865 §7.2: "flopsy" authenticates with CHAP for framed PPP.
RFC_7_2_REQUEST = bytes.fromhex(
    "01010047 2aee86f08d0d55969ca5978e0d3367a2 0108666c6f707379 031316e97557c316185895f293ff6344077275"
    " 0406c0a80110 050600000014 060600000002 070600000001"
)


def test_access_request_encodes_exactly_as_rfc_2865_example_7_1():
    _, data = build_request(
        Code.ACCESS_REQUEST,
        0,
        SECRET,
        [attr("User-Name", "nemo"), attr("NAS-IP-Address", "192.168.1.16"), attr("NAS-Port", 3)],
        password="arctangent",
        authenticator=RFC_7_1_AUTHENTICATOR,
        message_authenticator=False,
    )
    assert data == RFC_7_1_REQUEST


def test_rfc_7_1_request_decodes_and_its_password_unhides():
    packet = decode(RFC_7_1_REQUEST)
    assert (packet.code, packet.identifier) == (Code.ACCESS_REQUEST, 0)
    assert packet.get("User-Name") == "nemo"
    assert packet.get("NAS-IP-Address") == ipaddress.IPv4Address("192.168.1.16")
    assert packet.get("NAS-Port") == 3
    hidden = packet.get("User-Password")
    assert isinstance(hidden, bytes)
    assert unhide_password(hidden, SECRET, packet.authenticator) == b"arctangent"


def test_rfc_7_1_accept_has_a_valid_response_authenticator():
    request = decode(RFC_7_1_REQUEST)
    assert verify_response(RFC_7_1_ACCEPT, request, SECRET)
    accept = decode(RFC_7_1_ACCEPT)
    assert (accept.get("Service-Type"), accept.get("Login-Service")) == (1, 0)
    assert accept.get("Login-IP-Host") == ipaddress.IPv4Address("192.168.1.3")
    assert not verify_response(RFC_7_1_ACCEPT, request, b"another secret")


def test_rfc_7_1_accept_is_rebuilt_byte_for_byte():
    request = decode(RFC_7_1_REQUEST)
    answer = [attr("Service-Type", 1), attr("Login-Service", 0), attr("Login-IP-Host", "192.168.1.3")]
    assert build_response(Code.ACCESS_ACCEPT, request, SECRET, answer, message_authenticator=False) == RFC_7_1_ACCEPT


def test_rfc_7_2_chap_request_decodes_and_its_chap_response_checks():
    packet = decode(RFC_7_2_REQUEST)
    assert packet.get("User-Name") == "flopsy"
    assert (packet.get("Service-Type"), packet.get("Framed-Protocol"), packet.get("NAS-Port")) == (2, 1, 20)
    chap = packet.get("CHAP-Password")
    assert isinstance(chap, bytes)
    # no CHAP-Challenge attribute: the Request Authenticator is the challenge (RFC 2865 §5.3)
    assert chap[1:] == hashlib.md5(chap[:1] + b"arctangent" + packet.authenticator).digest()
    assert encode(packet) == RFC_7_2_REQUEST


@pytest.mark.parametrize("password", ["", "a", "exactly16octets!", "seventeen octets!", "x" * 128])
def test_hidden_passwords_round_trip_in_16_octet_blocks(password: str):
    hidden = hide_password(password.encode(), b"s3cret", RFC_7_1_AUTHENTICATOR)
    assert len(hidden) == max(16, -(-len(password) // 16) * 16)
    assert unhide_password(hidden, b"s3cret", RFC_7_1_AUTHENTICATOR) == password.encode()


def test_a_password_over_128_octets_is_refused():
    with pytest.raises(PacketError):
        hide_password(b"x" * 129, b"s", RFC_7_1_AUTHENTICATOR)


def test_disconnect_request_authenticator_is_md5_over_zeroed_header_and_secret():
    request, data = build_request(
        Code.DISCONNECT_REQUEST, 9, b"s3cret", [attr("User-Name", "rahim")], message_authenticator=False
    )
    zeroed = data[:4] + bytes(16) + data[20:]
    assert request.authenticator == hashlib.md5(zeroed + b"s3cret").digest()
    assert verify_request(data, b"s3cret")
    assert not verify_request(data, b"other")


def test_message_authenticator_of_a_coa_request_is_hmac_over_zeroed_authenticator():
    _, data = build_request(Code.COA_REQUEST, 1, b"s3cret", [attr("User-Name", "rahim")])
    assert data[20] == 80  # Message-Authenticator first
    mac = data[22:38]
    zeroed = data[:4] + bytes(16) + data[20:22] + bytes(16) + data[38:]
    assert mac == hmac.new(b"s3cret", zeroed, hashlib.md5).digest()
    assert verify_request(data, b"s3cret")
    tampered = data[:-1] + bytes([data[-1] ^ 1])
    assert not verify_request(tampered, b"s3cret")


def test_message_authenticator_of_an_access_request_uses_its_random_authenticator():
    request, data = build_request(Code.ACCESS_REQUEST, 1, b"s3cret", [attr("User-Name", "rahim")], password="pw")
    zeroed = data[:22] + bytes(16) + data[38:]
    assert data[22:38] == hmac.new(b"s3cret", zeroed, hashlib.md5).digest()
    assert verify_request(data, b"s3cret")
    assert request.authenticator == data[4:20]


def test_response_with_message_authenticator_verifies_and_a_forged_one_does_not():
    request, _ = build_request(Code.DISCONNECT_REQUEST, 5, b"s3cret", [attr("User-Name", "rahim")])
    answer = build_response(Code.DISCONNECT_NAK, request, b"s3cret", [attr("Error-Cause", 503)])
    assert verify_response(answer, request, b"s3cret")
    assert decode(answer).get("Error-Cause") == 503
    forged = build_response(Code.DISCONNECT_ACK, request, b"guessed")
    assert not verify_response(forged, request, b"s3cret")
    stray = build_response(Code.DISCONNECT_ACK, decode(encode(request)[:1] + b"\x06" + encode(request)[2:]), b"s3cret")
    assert not verify_response(stray, request, b"s3cret")  # an answer to another identifier


def test_mikrotik_vendor_attributes_round_trip_as_vendor_specific():
    packet_attrs = [attr("Mikrotik-Rate-Limit", "10M/10M"), attr("Mikrotik-Address-List", "ispb-suspended")]
    request, data = build_request(Code.COA_REQUEST, 3, b"s", packet_attrs, message_authenticator=False)
    # Vendor-Specific (26), length 15, vendor 14988, vendor type 8, vendor length 9, "10M/10M"
    assert data[20:35] == bytes([26, 15]) + (14988).to_bytes(4, "big") + bytes([8, 9]) + b"10M/10M"
    assert decode(data).get("Mikrotik-Rate-Limit") == "10M/10M"
    assert request.get("Mikrotik-Address-List") == "ispb-suspended"


def test_unknown_attributes_survive_decoding_as_raw_bytes():
    request = decode(RFC_7_1_REQUEST)
    data = encode(Packet(request.code, 0, request.authenticator, (*request.attributes, Attr(200, b"\x01\x02"))))
    assert Attr(200, b"\x01\x02") in decode(data).attributes
    assert Attr(200, b"\x01\x02").name == "Attr-0-200"


@pytest.mark.parametrize(
    "data",
    [
        b"\x01\x00\x00",  # shorter than a header
        bytes.fromhex("01000030") + bytes(16),  # length beyond the data
        bytes.fromhex("63000014") + bytes(16),  # unknown code 99
        bytes.fromhex("01000017") + bytes(16) + bytes([1, 9, 0]),  # attribute overruns
        bytes.fromhex("01000016") + bytes(16) + bytes([1, 1]),  # attribute length below 2
    ],
)
def test_malformed_packets_are_refused(data: bytes):
    with pytest.raises(PacketError):
        decode(data)


def test_a_value_longer_than_253_octets_is_refused():
    with pytest.raises(PacketError):
        build_request(Code.ACCOUNTING_REQUEST, 1, b"s", [attr("User-Name", "x" * 254)])


def test_status_server_requests_are_signed_and_carry_no_password() -> None:
    """RFC 5997: a random Request Authenticator and a Message-Authenticator, answered like an Access-Request."""
    from ispb_netsync.radius.packet import (
        MESSAGE_AUTHENTICATOR,
        Code,
        PacketError,
        build_request,
        build_response,
        verify_request,
        verify_response,
    )

    request, data = build_request(Code.STATUS_SERVER, 7, b"s3cret", [])
    assert request.code is Code.STATUS_SERVER and any(a.number == MESSAGE_AUTHENTICATOR for a in request.attributes)
    assert verify_request(data, b"s3cret") and not verify_request(data, b"other")
    answer = build_response(Code.ACCESS_ACCEPT, request, b"s3cret")
    assert verify_response(answer, request, b"s3cret") and not verify_response(answer, request, b"other")
    with pytest.raises(PacketError):
        build_request(Code.STATUS_SERVER, 8, b"s3cret", [], password="x")
