"""The notify service's settings: the only reader of `BKH_*` variables for notify.

Providers are chosen by what is configured: an SMTP host selects email over SMTP, an SMS gateway
URL selects SMS over the gateway's HTTP API; without them (development, `make run`) every
message is written to `messages_dir` instead. Production refuses the folder, development
secrets and plain-text transports, so a deployment that forgot one does not start.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.links import DEVELOPMENT_SECRET as DEVELOPMENT_LINK_SECRET
from shared.links import secret_problem
from shared.settings import BaseServiceSettings

DEVELOPMENT_RECEIPT_SECRET = "development-only-sms-receipt-secret"
_SENDER_ID = re.compile(r"[A-Za-z0-9 ]{1,11}|\+?[0-9]{3,15}")  # alphanumeric ≤ 11, or a number


class NotifySettings(BaseServiceSettings):
    # Where people land from a message (the gateway's public address) and the rating link's life.
    public_base_url: str = "http://127.0.0.1:8000"
    link_secret: str = Field(default=DEVELOPMENT_LINK_SECRET, repr=False)
    rating_link_lifetime_days: int = Field(default=14, ge=1, le=90)

    # Email over SMTP (the government mail relay). Empty host: messages go to `messages_dir`.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True          # upgrade with STARTTLS (port 587)
    smtp_implicit_tls: bool = False     # TLS from the first byte (port 465)
    smtp_ca_file: Path | None = None    # trust this CA bundle instead of the system's
    smtp_username: str = ""
    smtp_password: SecretStr = Field(default=SecretStr(""), repr=False)
    smtp_sender: str = "بخدمتكم <no-reply@bekhedmetkom.gov.jo>"
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    smtp_connections: int = Field(default=8, ge=1, le=100)

    # SMS over the operator's bulk gateway (HTTP). Empty URL: messages go to `messages_dir`.
    sms_gateway_url: str = ""
    sms_gateway_api_key: SecretStr = Field(default=SecretStr(""), repr=False)
    sms_sender_id: str = "BKHEDMETKOM"
    sms_timeout_s: float = Field(default=5.0, gt=0)
    sms_batch_size: int = Field(default=100, ge=1, le=1000)
    # Delivery receipts are signed by the gateway with this shared secret (HMAC-SHA256).
    sms_receipt_secret: SecretStr = Field(default=SecretStr(DEVELOPMENT_RECEIPT_SECRET),
                                          repr=False)
    sms_receipt_max_age_s: int = Field(default=300, ge=10)
    # An SMS longer than this many segments is cut (and counted); templates are tested to fit.
    sms_segment_budget: int = Field(default=6, ge=1, le=10)

    # The development stand-in for both providers: one file per message, a masked log line.
    messages_dir: Path | None = None

    # Dispatch: how many messages one claim takes, how many batches are in flight per channel.
    dispatch_batch_size: int = Field(default=200, ge=1, le=1000)
    dispatch_concurrency: int = Field(default=4, ge=1, le=64)
    dispatch_poll_interval_s: float = Field(default=1.0, gt=0)
    # After a part batch, wait this long before the next claim, so that batches fill.
    dispatch_linger_s: float = Field(default=0.02, ge=0, le=1)
    # A claimed message whose sender vanished is claimed again after this long.
    dispatch_lease_s: float = Field(default=120.0, gt=0)
    # Retries: exponential from `retry_base_s`, capped, with jitter; then dead-lettered.
    retry_max_attempts: int = Field(default=8, ge=1, le=50)
    retry_base_s: float = Field(default=2.0, gt=0)
    retry_cap_s: float = Field(default=900.0, gt=0)
    # A provider that failed this many batches in a row is left alone for `breaker_open_s`.
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_open_s: float = Field(default=30.0, gt=0)

    # The liaison officers' daily digest of overdue requests (Asia/Amman, Sunday–Thursday).
    overdue_digest_hour: int = Field(default=8, ge=0, le=23)
    # How often the digest and the forgetting of expired codes are looked at.
    digest_check_interval_s: float = Field(default=60.0, gt=0)
    # A message no longer on its way keeps its record (kind, status, times) this long with its
    # address and words, then forgets them: personal data kept no longer than it serves.
    message_retention_days: int = Field(default=180, ge=30, le=3650)

    @field_validator("sms_sender_id")
    @classmethod
    def _sender_id(cls, value: str) -> str:
        if not _SENDER_ID.fullmatch(value):
            raise ValueError("a sender id is up to 11 letters/digits, or a phone number")
        return value

    @model_validator(mode="after")
    def _fill_messages_dir(self) -> Self:
        if self.messages_dir is None:
            object.__setattr__(self, "messages_dir", self.data_dir / "messages")
        return self

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if link_problem := secret_problem(self.link_secret, production=True):
            problems.append(link_problem)
        if not self.public_base_url.startswith("https://"):
            problems.append("BKH_PUBLIC_BASE_URL must be an https:// URL")
        if not self.smtp_host:
            problems.append("BKH_SMTP_HOST must be set (no message folder in production)")
        elif not (self.smtp_starttls or self.smtp_implicit_tls):
            problems.append("BKH_SMTP_STARTTLS or BKH_SMTP_IMPLICIT_TLS must be on")
        if not self.sms_gateway_url.startswith("https://"):
            problems.append("BKH_SMS_GATEWAY_URL must be an https:// URL")
        if not self.sms_gateway_api_key.get_secret_value():
            problems.append("BKH_SMS_GATEWAY_API_KEY must be set")
        receipt_secret = self.sms_receipt_secret.get_secret_value()
        if receipt_secret == DEVELOPMENT_RECEIPT_SECRET or len(receipt_secret.encode()) < 32:
            problems.append("BKH_SMS_RECEIPT_SECRET must be set to at least 32 random bytes")
        return problems
