"""The integrity service's problems (RFC 9457, Arabic first), raised by its routes and service.

Anything a non-commission caller asks of the commission's routes is `ReportNotFound`: the same
404 as a report that does not exist, so the routes say nothing to anyone else.
"""

from __future__ import annotations

from shared.errors import Conflict, NotFound, Problem, Text


class ReportNotFound(NotFound):
    code = "report-not-found"
    title = Text("البلاغ غير موجود", "Report not found")


class NoIdentityEnvelope(NotFound):
    code = "no-identity-envelope"
    title = Text("لم يُرفق المبلّغ هويته بهذا البلاغ", "The reporter did not attach an identity")


class NoCommissionKey(NotFound):
    code = "no-commission-key"
    title = Text(
        "لم تسجّل هيئة النزاهة ومكافحة الفساد مفتاحاً عاماً بعد",
        "The integrity commission has not registered a public key yet",
    )


class KeyAlreadyRegistered(Conflict):
    code = "key-already-registered"
    title = Text(
        "هذا المفتاح أو معرّفه مسجّل من قبل", "This key or key id is already registered"
    )


class InvalidPublicKey(Problem):
    status = 422
    code = "invalid-public-key"
    title = Text("المفتاح العام غير صالح", "The public key is not valid")
    detail_text = Text(
        "المفتاح العام 32 بايتاً من نوع X25519 بترميز base64 القياسي، كما تطبعه أداة الهيئة.",
        "A public key is 32 bytes of X25519 in standard base64, as the commission's tool "
        "prints it.",
    )


class DevelopmentKeyRefused(Problem):
    status = 422
    code = "development-key-refused"
    title = Text(
        "مفاتيح التطوير مرفوضة في بيئة الإنتاج", "Development keys are refused in production"
    )
    detail_text = Text(
        "المعرّفات التي تبدأ بـ dev- لمفاتيح التطوير. اصنع مفتاح الهيئة بأداتها على جهازها غير "
        "المتصل بالشبكة وسجّله بمعرّف آخر.",
        "Key ids starting with dev- name development keys. Make the commission's key with its "
        "tool on its offline machine and register it under another id.",
    )


class FingerprintMismatch(Problem):
    status = 422
    code = "fingerprint-mismatch"
    title = Text(
        "البصمة لا تطابق المفتاح العام", "The fingerprint does not match the public key"
    )
    detail_text = Text(
        "قارن البصمة التي تطبعها أداة الهيئة بما أُرسل: ربما نُسخ المفتاح أو البصمة خطأً.",
        "Compare the fingerprint the commission's tool prints with what was sent: the key or "
        "the fingerprint was probably copied wrongly.",
    )


class AlreadyAcknowledged(Conflict):
    code = "already-acknowledged"
    title = Text("أُكّد استلام هذا البلاغ من قبل", "This report was already acknowledged")


class AlreadyDeclaredCannotBeOpened(Conflict):
    code = "already-declared-cannot-be-opened"
    title = Text(
        "أُعلن من قبل أن هذا البلاغ لا يمكن فتحه",
        "This report was already declared impossible to open",
    )


class NotAReceipt(Problem):
    status = 422
    code = "not-a-receipt"
    title = Text("هذا ليس رقم إيصال بلاغ", "This is not a report receipt")
    detail_text = Text(
        "إيصال البلاغ عشرون حرفاً ورقماً في أربع مجموعات، مثل 7K3QD-M2X9P-4WQ8R-Z1C5N.",
        "A report receipt is twenty letters and digits in four groups, like "
        "7K3QD-M2X9P-4WQ8R-Z1C5N.",
    )


class BadCursor(Problem):
    status = 422
    code = "bad-cursor"
    title = Text("مؤشر الصفحة غير صالح", "The page cursor is not valid")
