"""The intake service's problems: every refusal a citizen, agent or clerk can meet, bilingual.

    Problem (shared.errors)
    ├── InvalidInput                 422  a field breaks a rule pydantic cannot see (`field`)
    │   ├── PasswordRefused          422  mismatch, too short, too common
    │   └── UnknownEntity            422  not in the directory, or retired
    ├── IdentityNotVerified          422  the civil registry disagrees (`reason`)
    ├── CodeInvalid                  422  wrong, expired, used, or tried too often
    ├── AlreadyRegistered            409  an account exists for this identity
    ├── SimilarRequestsOpen          409  the duplicate warning, with the similar requests
    ├── RequestNotRateable           409  not answered, closed, rated, or a newer answer (`reason`)
    ├── RequestNotAwaitingInformation 409
    ├── InvalidCredentials           401  wrong identity number or password (never which)
    ├── RefreshTokenRefused          401
    ├── AttachmentRefused            422  type by content, size, count (`reason`)
    └── RegistryUnavailable          503  the civil registry is down: try again

Each is raised by the service layer and rendered by the kernel's one handler; none carries a
value the caller sent (it may be personal data), only field names and reason codes.
"""

from __future__ import annotations

from typing import Any

from shared.errors import Conflict, Problem, ServiceUnavailable, Text, Unauthorized


class InvalidInput(Problem):
    status = 422
    code = "invalid-input"
    title = Text("البيانات المدخلة غير صحيحة", "The submitted data is not valid")

    def __init__(self, field: str, reason: str, detail: Text, **extensions: Any) -> None:
        super().__init__(
            detail, errors=[{"field": field, "code": reason, "message": detail}], **extensions
        )


class PasswordRefused(InvalidInput):
    code = "password-refused"
    title = Text("كلمة المرور غير مقبولة", "The password is not accepted")


class UnknownEntity(InvalidInput):
    code = "unknown-entity"
    title = Text("الجهة غير معروفة", "Unknown entity")

    def __init__(self) -> None:
        super().__init__(
            "entity",
            "unknown_entity",
            Text(
                "لا توجد جهة حكومية قائمة بهذا الرمز؛ اتركها فارغة إن لم تعرف الجهة وستوجّه "
                "وحدة إدارة الشكاوى طلبك.",
                "There is no active government entity with this code; leave it empty if you "
                "do not know the entity and the complaints unit will route your request.",
            ),
        )


class IdentityNotVerified(Problem):
    status = 422
    code = "identity-not-verified"
    title = Text(
        "تعذّر التحقق من الهوية لدى الأحوال المدنية",
        "The identity could not be verified with the civil registry",
    )


class CodeInvalid(Problem):
    status = 422
    code = "code-invalid"
    title = Text("رمز التحقق غير صحيح أو منتهي الصلاحية", "The code is wrong or has expired")


class AlreadyRegistered(Conflict):
    code = "already-registered"
    title = Text("يوجد حساب مسجّل لهذه الهوية", "An account already exists for this identity")


class SimilarRequestsOpen(Conflict):
    code = "similar-requests-open"
    title = Text(
        "لديك طلبات مفتوحة مشابهة لدى هذه الجهة",
        "You have similar open requests with this entity",
    )


class RequestNotRateable(Conflict):
    code = "request-not-rateable"
    title = Text("لا يمكن تقييم هذا الطلب الآن", "This request cannot be rated now")


class ChaseRefused(Conflict):
    code = "chase-refused"
    title = Text("لا يمكن التذكير بهذا الطلب الآن", "This request cannot be chased now")


class RequestNotAwaitingInformation(Conflict):
    code = "request-not-awaiting-information"
    title = Text(
        "لم تُطلب منك معلومات عن هذا الطلب", "No information has been asked of you on this request"
    )


class InvalidCredentials(Unauthorized):
    code = "invalid-credentials"
    title = Text("رقم الهوية أو كلمة المرور غير صحيح", "Wrong identity number or password")


class RefreshTokenRefused(Unauthorized):
    code = "refresh-token-refused"
    title = Text(
        "انتهت الجلسة، سجّل الدخول من جديد", "The session has ended; sign in again"
    )


class AttachmentRefused(Problem):
    status = 422
    code = "attachment-refused"
    title = Text("المرفق غير مقبول", "The attachment is not accepted")


class RegistryUnavailable(ServiceUnavailable):
    code = "civil-registry-unavailable"
    title = Text(
        "خدمة الأحوال المدنية غير متاحة حالياً، حاول بعد قليل",
        "The civil registry cannot be reached right now; try again shortly",
    )

    def __init__(self) -> None:
        super().__init__(
            Text(
                "لم يُحفظ شيء من طلبك؛ أعد المحاولة بعد دقائق.",
                "Nothing of your request was kept; try again in a few minutes.",
            ),
            headers={"Retry-After": "30"},
        )
