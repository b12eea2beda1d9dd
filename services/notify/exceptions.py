"""The notify service's problems (RFC 9457), Arabic first."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, Problem, Text


class NotificationNotFound(NotFound):
    code = "notification-not-found"
    title = Text("لا توجد رسالة بهذا المعرّف", "There is no message with this id")


class NotDeadLettered(Conflict):
    code = "notification-not-dead-lettered"
    title = Text("لا يُعاد إرسال إلا رسالة استنفدت محاولاتها",
                 "Only a message whose attempts are used up can be retried")


class MessageForgotten(Problem):
    status = 410
    code = "notification-forgotten"
    title = Text("انقضت مدة الاحتفاظ بهذه الرسالة فحُذف عنوانها ونصها، فلا يمكن إعادة إرسالها",
                 "This message is past its retention period: its address and words are gone, "
                 "so it cannot be sent again")


class InvalidReceiptSignature(Problem):
    status = 401
    code = "invalid-receipt-signature"
    title = Text("توقيع إشعار التسليم غير صالح أو قديم",
                 "The delivery receipt's signature is invalid or too old")


class UnknownMessages(NotFound):
    code = "unknown-messages"
    title = Text("لا يخص أيٌّ من إشعارات التسليم رسالةً أرسلناها",
                 "None of the delivery receipts is about a message we sent")


class InvalidCursor(Problem):
    code = "invalid-cursor"
    title = Text("مؤشر الصفحة غير صالح", "The page cursor is not valid")


class RequesterUnreachable(Conflict):
    code = "requester-unreachable"
    title = Text("لا تُعرف وسيلة للتواصل مع مقدّم الطلب، فلن تحمل رسالةٌ هذا الرد إليه",
                 "No way to reach the requester is known, so no message would carry this "
                 "answer to them")
