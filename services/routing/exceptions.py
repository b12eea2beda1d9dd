"""The routing service's problems, each a `shared.errors.Problem` with Arabic and English words.

    Problem
    ├── NotFound
    │   ├── CaseNotFound               404  not in the caller's scope, or no such request
    │   └── DirectoryNotFound          404  no such sector, entity, classification, person
    ├── Conflict                       409
    │   ├── TransitionNotAllowed           the action does not apply in the request's status
    │   ├── CaseChangedConcurrently        someone else changed it between read and write
    │   ├── TransferLimitReached           three transfers: only the CMU moves it now
    │   ├── ExtensionLimitReached          two extensions at most
    │   ├── AlreadyExists                  a directory code or username taken
    │   └── Retired                        a retired sector, entity or classification
    ├── PreconditionFailed             412  stale If-Match
    ├── InvalidInput                   422  processing time, classification, officers, entities,
    │                                       passwords, scopes: the body does not fit the rules
    ├── Unauthorized
    │   ├── SignInFailed               401  wrong username or password (never says which)
    │   └── StandingLost               401  deactivated, or role or scope changed
    ├── Forbidden
    │   └── PermissionDenied           403  the role (or person) may not do this
    └── ServiceUnavailable
        └── SignInUnavailable          503  no signing key configured

Every detail names identifiers only, never a person's data.
"""

from __future__ import annotations

from typing import Any

from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    ServiceUnavailable,
    Text,
    Unauthorized,
)


class CaseNotFound(NotFound):
    code = "case-not-found"
    title = Text("الطلب غير موجود", "Request not found")

    def __init__(self, reference: str) -> None:
        super().__init__(
            Text(f"لا يوجد طلب بالرقم {reference} ضمن صلاحياتك.",
                 f"There is no request {reference} within your scope."),
            reference=reference,
        )


class DirectoryNotFound(NotFound):
    code = "directory-not-found"

    def __init__(self, subject: str, key: str) -> None:
        super().__init__(
            Text(f"لا يوجد {_SUBJECTS_AR.get(subject, subject)} بالرمز {key}.",
                 f"There is no {subject} {key}."),
            subject=subject, key=key,
        )


_SUBJECTS_AR = {"sector": "قطاع", "entity": "جهة", "classification": "تصنيف", "person": "موظف",
                "assignment": "تكليف"}


class TransitionNotAllowed(Conflict):
    code = "transition-not-allowed"
    title = Text("لا يمكن تنفيذ هذا الإجراء في حالة الطلب الحالية",
                 "This action is not allowed in the request's current status")

    def __init__(self, detail: Text, *, status: str, action: str, **extensions: Any) -> None:
        # `current_status`: RFC 9457 reserves `status` for the HTTP status code.
        super().__init__(detail, current_status=status, action=action, **extensions)


class CaseChangedConcurrently(Conflict):
    code = "case-changed-concurrently"
    title = Text("عدّل شخص آخر الطلب في الوقت نفسه", "Someone else changed the request meanwhile")
    detail_text = Text("أعد تحميل الطلب ثم أعد المحاولة.", "Reload the request and try again.")

    def __init__(self) -> None:
        super().__init__(self.detail_text)


class TransferLimitReached(Conflict):
    code = "transfer-limit-reached"
    title = Text("بلغ الطلب الحد الأقصى للتحويلات", "The request has reached the transfer limit")


class ExtensionLimitReached(Conflict):
    code = "extension-limit-reached"
    title = Text("مُدّدت المهلة مرتين، وهو الحد الأقصى",
                 "The deadline was already extended twice, the most allowed")


class AlreadyExists(Conflict):
    code = "already-exists"
    title = Text("موجود مسبقاً", "Already exists")


class Retired(Conflict):
    code = "retired"
    title = Text("أُوقف العمل به", "Retired")


class PreconditionFailed(Problem):
    status = 412
    code = "precondition-failed"
    title = Text("تغيّر الطلب منذ قرأته", "The request changed since you read it")

    def __init__(self, current_etag: str) -> None:
        super().__init__(
            Text("قيمة If-Match لا تطابق النسخة الحالية؛ أعد تحميل الطلب.",
                 "If-Match does not match the current version; reload the request."),
            etag=current_etag,
        )


class InvalidInput(Problem):
    status = 422
    code = "invalid-input"
    title = Text("البيانات لا تنطبق على القواعد", "The data does not fit the rules")

    def __init__(self, detail: Text, **extensions: Any) -> None:
        super().__init__(detail, **extensions)


class SignInFailed(Unauthorized):
    code = "sign-in-failed"
    title = Text("تعذّر تسجيل الدخول", "Sign-in failed")
    detail_text = Text("اسم المستخدم أو كلمة المرور غير صحيحة.",
                       "The username or the password is wrong.")

    def __init__(self, detail: Text | None = None) -> None:
        super().__init__(detail or self.detail_text)


class StandingLost(Unauthorized):
    code = "staff-standing-lost"
    title = Text("تغيّرت صلاحيات حسابك", "Your account's standing has changed")
    detail_text = Text(
        "أُوقف حسابك أو تغيّر دورك أو نطاقه؛ سجّل الدخول من جديد.",
        "Your account was deactivated or its role or scope changed; sign in again.",
    )

    def __init__(self) -> None:
        super().__init__(self.detail_text)


class PermissionDenied(Forbidden):
    code = "permission-denied"
    title = Text("لا تملك صلاحية هذا الإجراء", "You are not allowed to do this")

    def __init__(self, permission: str) -> None:
        super().__init__(None, permission=permission)


class SignInUnavailable(ServiceUnavailable):
    code = "sign-in-unavailable"
    title = Text("تسجيل دخول الموظفين غير متاح", "Staff sign-in is not available")
