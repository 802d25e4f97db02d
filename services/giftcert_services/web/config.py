"""The web pages' own settings (GIFTCERT_* variables, read when the app is built).

`GIFTCERT_PORTAL_PAYMENT_URL` is where the portal hands a buyer over to the payment system: a
template with `{certificate_id}`, `{amount_minor}`, `{amount}`, `{currency}`, `{workspace}` and
`{return_url}` (each URL-encoded). Unset with `GIFTCERT_PORTAL_TEST_PAYMENTS` on (what `giftcert dev`
sets), the portal's own test payment page plays the payment system; unset otherwise, the portal
refuses purchases it could not have paid."""

from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GIFTCERT_", extra="ignore", hide_input_in_errors=True)

    portal_payment_url: str | None = None
    portal_test_payments: bool = False
    # purchase forms one client address may send per window (429 beyond), per API process
    portal_purchase_limit: int = Field(default=10, ge=1)
    portal_purchase_window_seconds: float = Field(default=600.0, gt=0)
    # signs the console's session and CSRF tokens; unset: a random secret per process, so sessions
    # end when it restarts and several replicas need one set
    console_session_secret: SecretStr | None = None
    console_session_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    # the origin browsers use (https://gifts.example.com) behind a proxy: forms are accepted from it
    # only, and cookies are Secure when it is https; unset: the origin the request was made to
    public_origin: str | None = None

    def payment_origin(self) -> str | None:
        """The origin the purchase form may send the buyer on to (CSP form-action)."""
        if not self.portal_payment_url:
            return None
        parts = urlsplit(self.portal_payment_url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
