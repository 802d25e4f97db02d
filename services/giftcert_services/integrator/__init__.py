"""The service as an integrator sees it: inbound requests sent, outbound events watched.
Used by `giftcert demo` and by the tests."""
