"""Rate limits of intake: what one phone, one identity, one address and everyone together may do.

Each one-time code costs an SMS, so sending one spends from four budgets at once: the phone
number's, the identity number's, the client address's, and a global budget against SMS pumping
(someone making us text premium numbers). Sign-in attempts spend from the identity's own
budget, so a password cannot be guessed from many addresses; tries of a tracking code spend
from the reference's budget and the address's. Counts live in the storage the settings name
(`memory://` in the embedded mode; Redis, `redis://…`, for several replicas), in moving windows
(`shared.ratelimit`).

What it must never do: put a phone or identity number into a storage key (they are keyed by an
HMAC), or send a code when the storage cannot say how many were sent (fail closed: 503). Sign-in
attempts and tracking tries are counted in this process while the storage is away (the same
budget per replica): nobody is shut out, and guessing stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter

from services.intake.codes import keyed_digest
from shared.errors import ServiceUnavailable, Text, TooManyRequests
from shared.ratelimit import RateLimitItem, RateLimits, parse_many

THROTTLED = Counter("bkh_intake_throttled_total", "Requests refused by a rate limit", ["budget"])
STORAGE_ERRORS = Counter(
    "bkh_intake_rate_limit_storage_errors_total", "Rate-limit checks the storage could not answer"
)

_TOO_MANY_CODES = Text(
    "أُرسل عدد كبير من الرموز؛ انتظر قليلاً ثم أعد المحاولة.",
    "Too many codes have been sent; wait a while and try again.",
)
_TOO_MANY_SIGN_INS = Text(
    "محاولات دخول كثيرة لهذا الحساب؛ انتظر قليلاً ثم أعد المحاولة.",
    "Too many sign-in attempts for this account; wait a while and try again.",
)
_TOO_MANY_TRACKING_TRIES = Text(
    "محاولات كثيرة لفتح هذا الطلب؛ انتظر قليلاً ثم أعد المحاولة.",
    "Too many tries to open this request; wait a while and try again.",
)
_NO_COUNTS = Text(
    "تعذّر إرسال الرمز الآن؛ أعد المحاولة بعد قليل.",
    "The code cannot be sent right now; try again shortly.",
)


@dataclass(frozen=True, slots=True)
class Budgets:
    """Limits in the `limits` notation, several joined by `;` ("3/10 minutes;10/day")."""

    codes_per_phone: str
    codes_per_identity: str
    codes_per_address: str
    codes_everywhere: str
    sign_ins_per_identity: str
    tracking_tries_per_address: str
    tracking_tries_per_reference: str


class Throttle:
    def __init__(self, *, storage_uri: str, prefix: str, key_secret: str, budgets: Budgets) -> None:
        self.limits = RateLimits(storage_uri, on_unreachable=STORAGE_ERRORS.inc)
        self.sign_in_limits = RateLimits(storage_uri, in_process_when_unreachable=True,
                                         on_unreachable=STORAGE_ERRORS.inc)
        self._prefix = prefix
        self._key = key_secret
        self._per_phone = tuple(parse_many(budgets.codes_per_phone))
        self._per_identity = tuple(parse_many(budgets.codes_per_identity))
        self._per_address = tuple(parse_many(budgets.codes_per_address))
        self._everywhere = tuple(parse_many(budgets.codes_everywhere))
        self._sign_ins = tuple(parse_many(budgets.sign_ins_per_identity))
        self._tracking_per_address = tuple(parse_many(budgets.tracking_tries_per_address))
        self._tracking_per_reference = tuple(parse_many(budgets.tracking_tries_per_reference))

    def _pseudonym(self, value: str) -> str:
        return keyed_digest(self._key, value)[:32]

    async def spend_code(self, *, phone: str, identity: str | None, address: str) -> None:
        """Count one code about to be sent, or raise 429 (a budget is spent) or 503."""
        budgets = [
            ("code-phone", self._per_phone, self._pseudonym(phone)),
            ("code-address", self._per_address, self._pseudonym(address)),
            ("code-global", self._everywhere, "all"),
        ]
        if identity is not None:
            budgets.append(("code-identity", self._per_identity, self._pseudonym(identity)))
        try:
            await self._spend(self.limits, budgets, _TOO_MANY_CODES)
        except TooManyRequests:
            raise
        except Exception:  # the storage cannot say how many were sent (said by RateLimits)
            raise ServiceUnavailable(_NO_COUNTS, headers={"Retry-After": "30"}) from None

    async def spend_code_try(self, *, code_key: str, tries: int, window_s: int) -> int | None:
        """Count one try of a code: how many tries are left after it, or None once `tries`
        were spent on it.

        Counted here rather than in the database: a wrong try must count although the request
        that made it fails and its transaction rolls back.
        """
        item = parse_many(f"{tries} per {window_s} seconds")[0]
        try:
            if not await self.limits.hit(item, self._prefix, "code-try", code_key):
                return None
            return await self.limits.remaining(item, self._prefix, "code-try", code_key)
        except Exception:
            raise ServiceUnavailable(_NO_COUNTS, headers={"Retry-After": "30"}) from None

    async def spend_sign_in(self, identity: str) -> None:
        """Count one sign-in attempt (in this process while the storage is away)."""
        await self._spend(self.sign_in_limits,
                          [("sign-in", self._sign_ins, self._pseudonym(identity))],
                          _TOO_MANY_SIGN_INS)

    async def spend_tracking_try(self, *, reference: str, address: str) -> None:
        """Count one try of a tracking code, from this address and on this reference (a code
        cannot be guessed from many addresses either); in this process while the storage is
        away, as sign-ins are."""
        await self._spend(self.sign_in_limits, [
            ("tracking-address", self._tracking_per_address, self._pseudonym(address)),
            ("tracking-reference", self._tracking_per_reference, self._pseudonym(reference)),
        ], _TOO_MANY_TRACKING_TRIES)

    async def _spend(self, limits: RateLimits,
                     budgets: list[tuple[str, tuple[RateLimitItem, ...], str]], detail: Text
                     ) -> None:
        # Test every budget before hitting any: a refused send must not eat the others.
        for name, items, key in budgets:
            for item in items:
                if not await limits.test(item, self._prefix, name, key):
                    THROTTLED.labels(name).inc()
                    wait = await limits.retry_after_s(item, self._prefix, name, key)
                    raise TooManyRequests(wait, detail)
        for name, items, key in budgets:
            for item in items:
                await limits.hit(item, self._prefix, name, key)

    async def aclose(self) -> None:
        await self.limits.aclose()
        await self.sign_in_limits.aclose()
