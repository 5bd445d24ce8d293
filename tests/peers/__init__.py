"""Network peers for integration tests: programs that speak a real protocol on loopback (DESIGN 5)."""
