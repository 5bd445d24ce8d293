"""Online payments: a customer pays at a gateway (bKash, ...) and the payment is recorded once, after the
gateway confirmed it server to server. See docs/payments.md for the state machine."""
