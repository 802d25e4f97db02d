"""GIFTCERT_API_TRUSTED_PROXIES: the proxies whose X-Forwarded-For the API believes (tests/e2e/
test_api_process.py has the API process behind one)."""

import pytest

from giftcert.settings import Settings


def test_an_entry_that_is_neither_an_address_nor_a_network_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="'gateway' is neither an IP address nor a network"):
        Settings(api_trusted_proxies="10.0.0.0/8, gateway")
    assert Settings(api_trusted_proxies=" 10.0.0.0/8, 192.0.2.1 ,::1").api_trusted_proxies
