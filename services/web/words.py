"""Every sentence the back office shows, in Arabic and English: one place, looked up by key.

Templates say `t("queue.title")`; a key that is not here fails the page (and its test) instead of
showing a raw key to an officer. Statuses, kinds and channels are said the way staff say them,
which is terser than the requester's words in intake.
"""

from __future__ import annotations

from typing import Final

from services.web.i18n import Plural
from shared.errors import Language, Text
from shared.events.vocabulary import (
    Channel,
    ClosingCode,
    LegalGround,
    RequestKind,
    RequestStatus,
    Role,
    SlaStage,
)

WORDS: Final[dict[str, Text]] = {
    # --- the frame ---
    "app.name": Text("بخدمتكم", "Bekhedmetkom"),
    "app.office": Text("المكتب الإداري", "Back office"),
    "app.skip": Text("انتقل إلى المحتوى", "Skip to content"),
    "app.language_other": Text("English", "العربية"),
    "app.language_other_label": Text("Switch to English", "التبديل إلى العربية"),
    "app.signed_in_as": Text("مسجّل الدخول باسم", "Signed in as"),
    "app.sign_out": Text("تسجيل الخروج", "Sign out"),
    "app.menu": Text("القائمة الرئيسية", "Main menu"),
    "app.dashboard": Text("لوحة المؤشرات", "Dashboard"),
    "app.footer": Text("منصة بخدمتكم الحكومية · المكتب الإداري",
                       "Bekhedmetkom government platform · Back office"),
    "app.loading": Text("جارٍ التحميل…", "Loading…"),
    # --- the menu ---
    "nav.queue": Text("صندوق الطلبات", "Work queue"),
    "nav.triage": Text("الفرز", "Triage"),
    "nav.review": Text("المراجعة", "Review"),
    "nav.overdue": Text("المتأخرة", "Overdue"),
    "nav.search": Text("البحث", "Search"),
    "nav.directory": Text("الدليل", "Directory"),
    "nav.calendar": Text("التقويم والمهل", "Calendar and time limits"),
    "nav.people": Text("الموظفون والصلاحيات", "People and permissions"),
    "nav.caller": Text("المتصلون", "Callers"),
    "nav.paper": Text("الطلبات الورقية", "Paper requests"),
    "nav.sealed": Text("البلاغات المختومة", "Sealed reports"),
    # --- signing in ---
    "sign_in.title": Text("تسجيل الدخول", "Sign in"),
    "sign_in.lead": Text("للموظفين المخوّلين فقط. استخدم اسم المستخدم وكلمة المرور اللذين "
                         "أعطتك إياهما وحدة إدارة الشكاوى.",
                         "For authorised staff only. Use the username and password the "
                         "complaints management unit gave you."),
    "sign_in.username": Text("اسم المستخدم", "Username"),
    "sign_in.password": Text("كلمة المرور", "Password"),
    "sign_in.submit": Text("دخول", "Sign in"),
    "sign_in.expired": Text("انتهت جلستك. سجّل الدخول مجدداً لتعود إلى الصفحة التي كنت فيها.",
                            "Your session ended. Sign in again to return to the page you "
                            "were on."),
    "sign_in.signed_out": Text("سجّلت الخروج.", "You have signed out."),
    "sign_in.required": Text("هذا الحقل مطلوب.", "This field is required."),
    # --- the public pages ---
    "public.sub": Text("منصة الشكاوى والاقتراحات الحكومية",
                       "The government's complaints and suggestions platform"),
    "public.footer": Text("منصة بخدمتكم الحكومية", "Bekhedmetkom government platform"),
    "track.title": Text("تتبّع طلبك", "Track your request"),
    "track.lead": Text("أدخل الرقم المرجعي لطلبك ورمز المتابعة كما طُبعا على الإيصال أو وصلا في "
                       "الرسالة. لا تحتاج إلى حساب.",
                       "Enter your request's reference number and tracking code as printed on "
                       "the receipt or sent in the message. You need no account."),
    "track.reference": Text("الرقم المرجعي", "Reference number"),
    "track.code": Text("رمز المتابعة", "Tracking code"),
    "track.reference_hint": Text("مثل 2026-0000123-4", "Such as 2026-0000123-4"),
    "track.code_hint": Text("عشرة أحرف وأرقام، مثل 7KQ2M-XH4RP", "Ten letters and digits, such "
                            "as 7KQ2M-XH4RP"),
    "track.submit": Text("اعرض طلبي", "Show my request"),
    "track.another": Text("تتبّع طلباً آخر", "Track another request"),
    "chase.title": Text("التذكير بطلبك", "Chase your request"),
    "chase.lead": Text("فات موعد الرد الموعود لك. ذكّر بطلبك ليُبلَّغ الموظف الذي يعالجه ورئيس "
                       "الجهة؛ مرة واحدة في كل يوم عمل.",
                       "The answer promised to you is late. Chase your request, and the officer "
                       "handling it and the head of the entity are told; once each working day."),
    "chase.note": Text("ملاحظة (اختيارية)", "A note (optional)"),
    "chase.note_hint": Text("كلمات قليلة للموظف، بلا بيانات شخصية.",
                            "A few words for the officer, without personal details."),
    "chase.submit": Text("ذكّر بطلبي", "Chase my request"),
    "chase.opens": Text("إن تأخر الرد يمكنك التذكير بطلبك بعد", "If the answer is late, you may "
                        "chase your request after"),
    "chase.next": Text("ذكّرت بطلبك اليوم. يمكنك التذكير مجدداً من", "You chased your request "
                       "today. You may chase it again from"),
    "rate.title": Text("قيّم الرد على طلبك", "Rate the answer to your request"),
    "rate.legend": Text("ما رأيك في الرد؟", "How do you rate the answer?"),
    "rate.hint": Text("اضغط تقييماً واحداً لإرساله. التقييم 1 يرسل طلبك إلى وحدة إدارة الشكاوى "
                      "لمراجعة الرد.",
                      "Press one rating to send it. A rating of 1 sends your request to the "
                      "complaints management unit to review the answer."),
    "rate.score_5": Text("راضٍ جداً", "Very satisfied"),
    "rate.score_4": Text("راضٍ", "Satisfied"),
    "rate.score_3": Text("مقبول", "Neither"),
    "rate.score_2": Text("غير راضٍ", "Dissatisfied"),
    "rate.score_1": Text("غير راضٍ إطلاقاً", "Very dissatisfied"),
    "rate.choose": Text("اختر تقييماً من 1 إلى 5.", "Choose a rating from 1 to 5."),
    "rate.comment": Text("ملاحظة (اختيارية)", "A comment (optional)"),
    "rate.comment_hint": Text("اكتبها قبل أن تضغط تقييمك؛ تصل مع التقييم.",
                              "Write it before you press your rating; it is sent with it."),
    "rate.thanks": Text("شكراً لك", "Thank you"),
    "rate.recorded": Text("سُجّل تقييمك: {score} من 5.", "Your rating is recorded: {score} of 5."),
    "rate.already_rated": Text("قيّمت هذا الرد من قبل: {score} من 5. شكراً لك.",
                               "You rated this answer already: {score} of 5. Thank you."),
    "rate.why_not_superseded": Text("وصلك رد أحدث على طلبك؛ قيّمه من الرابط في آخر رسالة "
                                    "وصلتك.",
                                    "A newer answer to your request was sent; rate it from the "
                                    "link in the latest message you received."),
    "rate.why_not_under_review": Text("تراجع وحدة إدارة الشكاوى الرد بعد تقييمك، وستصلك رسالة "
                                      "بما تقرره.",
                                      "The complaints management unit is reviewing the answer "
                                      "after your rating; a message will tell you what it "
                                      "decides."),
    "rate.why_not_closed": Text("أُغلق هذا الطلب، فلا يُقيَّم الآن.",
                                "This request is closed and can no longer be rated."),
    "rate.why_not_not_answered": Text("يُعالَج طلبك من جديد؛ ستصلك مع الرد القادم رسالة برابط "
                                      "لتقييمه.",
                                      "Your request is being handled again; the next answer "
                                      "comes with a message and a link to rate it."),
    "rate.gone": Text("هذا الرابط لم يعد صالحاً", "This link is no longer valid"),
    "rate.gone_lead": Text("انتهت صلاحية رابط التقييم أو لم يكتمل عند نسخه. تابع طلبك برقمه "
                           "المرجعي ورمز المتابعة.",
                           "The rating link has expired, or was not copied whole. Follow your "
                           "request with its reference number and tracking code."),
    "rate.track": Text("تتبّع طلبك", "Track your request"),
    # --- errors ---
    "error.summary": Text("يوجد خطأ", "There is a problem"),
    "error.not_found": Text("الصفحة غير موجودة", "Page not found"),
    "error.not_found_lead": Text("تأكد من العنوان، أو عُد إلى صفحتك الرئيسية.",
                                 "Check the address, or go back to your home page."),
    "error.forbidden": Text("لا تملك صلاحية هذه الصفحة", "You cannot open this page"),
    "error.forbidden_lead": Text("إن كنت تحتاجها لعملك فاطلبها من مسؤول وحدة إدارة الشكاوى.",
                                 "If your work needs it, ask a complaints unit administrator."),
    "error.unavailable": Text("الخدمة غير متاحة الآن", "The service is unavailable"),
    "error.unavailable_lead": Text("لم تُحفظ أي تغييرات. حاول بعد قليل.",
                                   "Nothing was changed. Try again in a moment."),
    "error.unexpected": Text("حدث خطأ غير متوقع", "Something went wrong"),
    "error.csrf": Text("انتهت صلاحية النموذج. أعد المحاولة من الصفحة.",
                       "The form expired. Try again from the page."),
    "error.home": Text("الصفحة الرئيسية", "Home page"),
    "error.reference": Text("رقم المتابعة للدعم الفني", "Reference for support"),
    # --- the work queue ---
    "queue.title": Text("صندوق الطلبات", "Work queue"),
    "queue.counters": Text("ملخص الصندوق", "Queue summary"),
    "queue.new": Text("جديدة", "New"),
    "queue.due_today": Text("تستحق اليوم", "Due today"),
    "queue.overdue": Text("متأخرة", "Overdue"),
    "queue.escalated": Text("مصعّدة", "Escalated"),
    "queue.awaiting": Text("بانتظار مقدّم الطلب", "Awaiting the requester"),
    "queue.filters": Text("تصفية الطلبات", "Filter requests"),
    "queue.search": Text("بحث", "Search"),
    "queue.search_hint": Text("الرقم المرجعي أو الموضوع أو الوصف أو اسم مقدّم الطلب",
                              "Reference, subject, description or requester's name"),
    "queue.status": Text("الحالة", "Status"),
    "queue.kind": Text("النوع", "Kind"),
    "queue.entity": Text("الجهة أو الدائرة", "Entity or department"),
    "queue.classification": Text("التصنيف", "Classification"),
    "queue.channel": Text("القناة", "Channel"),
    "queue.escalation_level": Text("مستوى التصعيد", "Escalation level"),
    "queue.not_escalated": Text("غير مصعّد", "Not escalated"),
    "queue.level_1": Text("المستوى 1: رئيس الجهة", "Level 1: entity head"),
    "queue.level_2": Text("المستوى 2: الوزير", "Level 2: minister"),
    "queue.due": Text("الاستحقاق", "Due"),
    "queue.any": Text("الكل", "Any"),
    "queue.due_today_opt": Text("اليوم", "Today"),
    "queue.due_overdue_opt": Text("متأخرة", "Overdue"),
    "queue.due_week_opt": Text("خلال 5 أيام عمل", "Within 5 working days"),
    "queue.apply": Text("تطبيق", "Apply"),
    "queue.clear": Text("مسح التصفية", "Clear filters"),
    "queue.empty": Text("لا توجد طلبات تطابق هذه التصفية.", "No requests match these filters."),
    "queue.reference": Text("الرقم المرجعي", "Reference"),
    "queue.subject": Text("الموضوع", "Subject"),
    "queue.received": Text("تاريخ الاستلام", "Received"),
    "queue.next": Text("الصفحة التالية", "Next page"),
    "queue.first": Text("الصفحة الأولى", "First page"),
    "queue.results": Text("الطلبات", "Requests"),
    "queue.new_arrived": Text("وصلت طلبات جديدة", "New requests arrived"),
    "queue.refresh": Text("تحديث", "Refresh"),
    "queue.level": Text("المستوى", "Level"),
    # --- search ---
    "search.title": Text("البحث في الطلبات", "Search requests"),
    "search.results": Text("نتائج البحث", "Search results"),
    "search.none": Text("لا طلبات تطابق هذا البحث.", "No requests match this search."),
    # --- a request ---
    "case.title": Text("الطلب", "Request"),
    "case.back": Text("العودة إلى الصندوق", "Back to the queue"),
    "case.requester": Text("مقدّم الطلب", "Requester"),
    "case.name": Text("الاسم", "Name"),
    "case.phone": Text("الهاتف", "Phone"),
    "case.email": Text("البريد الإلكتروني", "Email"),
    "case.governorate": Text("المحافظة", "Governorate"),
    "case.city": Text("المدينة", "City"),
    "case.contact_audited": Text("يُسجَّل كل اطلاع على بيانات مقدّم الطلب.",
                                 "Every view of the requester's details is recorded."),
    "case.contact_hidden": Text("بيانات مقدّم الطلب لمن يتولى الطلب فقط.",
                                "The requester's details are for those handling the request."),
    "case.description": Text("الوصف", "Description"),
    "case.attachments": Text("المرفقات", "Attachments"),
    "case.no_attachments": Text("لا توجد مرفقات.", "No attachments."),
    "case.open_attachment": Text("عرض", "View"),
    "case.download": Text("تنزيل", "Download"),
    "case.attachment": Text("مرفق", "Attachment"),
    "unit.kb": Text("ك.ب", "KB"),
    "case.deadlines": Text("المواعيد", "Deadlines"),
    "case.no_deadlines": Text("لا مواعيد جارية.", "No running deadlines."),
    "case.timeline": Text("السجل الزمني", "Timeline"),
    "case.chain_intact": Text("السجل سليم ولم يُعدَّل", "Timeline intact, not altered"),
    "case.chain_tampered": Text("السجل عُدِّل بعد كتابته", "Timeline altered after writing"),
    "case.details": Text("تفاصيل الطلب", "Request details"),
    "case.status": Text("الحالة", "Status"),
    "case.kind": Text("النوع", "Kind"),
    "case.channel": Text("القناة", "Channel"),
    "case.entity": Text("الجهة", "Entity"),
    "case.submitted": Text("تاريخ الاستلام", "Received"),
    "case.classification": Text("التصنيف", "Classification"),
    "case.processing": Text("مدة المعالجة", "Processing time"),
    "case.similar": Text("طلبات مفتوحة مشابهة", "Similar open requests"),
    "case.no_similar": Text("لا طلبات مشابهة مفتوحة.", "No similar open requests."),
    "case.actions": Text("الإجراءات", "Actions"),
    "case.no_actions": Text("لا إجراءات متاحة لك على هذا الطلب الآن.",
                            "No action is open to you on this request now."),
    "case.done": Text("تم حفظ الإجراء.", "The action was saved."),
    "case.stale": Text("تغيّر الطلب منذ فتحته. راجع حالته الآن ثم أعد الإجراء.",
                       "The request changed since you opened it. Check it now, then act again."),
    "case.working_left": Text("المتبقي", "Left"),
    "case.overdue_since": Text("متأخر منذ", "Overdue since"),
    "case.due": Text("يستحق في", "Due"),
    "case.clock_requester": Text("مهلة مقدّم الطلب", "Requester's clock"),
    "case.clock_entity": Text("مهلة الجهة", "Entity's clock"),
    "case.rating": Text("تقييم مقدّم الطلب", "Requester's rating"),
    "case.preview": Text("معاينة الرسالة التي ستصل مقدّم الطلب",
                         "Preview of the message the requester will get"),
    "case.preview_button": Text("معاينة", "Preview"),
    # --- action forms ---
    "action.accept": Text("قبول الاختصاص", "Accept"),
    "action.refuse-jurisdiction": Text("رفض الاختصاص", "Refuse jurisdiction"),
    "action.distribute": Text("توزيع", "Distribute"),
    "action.transfer": Text("تحويل إلى جهة أخرى", "Transfer"),
    "action.ask-info": Text("طلب معلومات من مقدّم الطلب", "Ask the requester"),
    "action.extend": Text("تمديد المدة", "Extend"),
    "action.respond": Text("الرد", "Respond"),
    "action.reject": Text("رفض لعدم القبول", "Reject as inadmissible"),
    "action.close": Text("إغلاق", "Close"),
    "action.merge": Text("دمج المكررات", "Merge duplicates"),
    "action.review-decision": Text("قرار المراجعة", "Review decision"),
    "action.comment": Text("ملاحظة للسجل", "Comment for the record"),
    "field.comment": Text("الملاحظة", "Comment"),
    "field.comment_hint": Text("تُحفظ في السجل الزمني للطلب ولا يراها مقدّم الطلب.",
                               "Kept on the request's timeline; the requester does not see it."),
    "case.merge_selected": Text("دمج المحدد في هذا الطلب", "Merge the selected into this request"),
    "case.merge_hint": Text("تُغلق المكررات ويجيب الرد على هذا الطلب مقدّميها جميعاً.",
                            "The duplicates close, and the answer to this request answers all "
                            "their requesters."),
    "field.classification": Text("التصنيف", "Classification"),
    "field.processing_working_days": Text("مدة المعالجة (أيام عمل)",
                                          "Processing time (working days)"),
    "field.processing_hint": Text("للشكاوى: حتى الحد الأقصى للتصنيف.",
                                  "Complaints: up to the classification's maximum."),
    "field.reason": Text("السبب", "Reason"),
    "field.reason_public": Text("السبب (يراه مقدّم الطلب)", "Reason (the requester sees it)"),
    "field.suggested_entity": Text("الجهة المقترحة (اختياري)", "Suggested entity (optional)"),
    "field.entity": Text("الجهة أو الدائرة", "Entity or department"),
    "field.officer_ids": Text("ضباط الارتباط الفرعيون", "Sub-liaison officers"),
    "field.officer_ids_hint": Text(
        "اختر من ضباط الجهة المختارة، أو لا تختر أحداً ليُبلَّغ ضباطها جميعاً.",
        "Tick some of the chosen entity's officers, or none to tell all of them."),
    "field.to_entity": Text("الجهة المحوَّل إليها", "Transfer to"),
    "field.question": Text("السؤال", "Question"),
    "field.added_working_days": Text("أيام العمل المضافة", "Working days added"),
    "field.actions_taken": Text("الإجراءات المتخذة", "Actions taken"),
    "field.solution": Text("الحل", "Solution"),
    "field.outcome": Text("النتيجة", "Outcome"),
    "field.legal_ground": Text("السند القانوني", "Legal ground"),
    "field.closing_code": Text("رمز الإغلاق", "Closing code"),
    "field.note": Text("ملاحظة (اختياري)", "Note (optional)"),
    "field.duplicates": Text("الأرقام المرجعية للمكررات (رقم في كل سطر)",
                             "Reference numbers of the duplicates (one per line)"),
    "field.decision": Text("القرار", "Decision"),
    "field.choose": Text("اختر…", "Choose…"),
    "field.closing_hint": Text("عند التأكيد فقط؛ نتيجة الرد إن تُرك فارغاً.",
                               "When confirming only; the response's outcome if left empty."),
    "outcome.resolved": Text("حُلّت", "Resolved"),
    "outcome.partly_resolved": Text("حُلّت جزئياً", "Partly resolved"),
    "outcome.rejected": Text("رُفضت", "Rejected"),
    "decision.reopen": Text("إعادة الفتح لدى الجهة نفسها", "Reopen with the same entity"),
    "decision.confirm": Text("تأكيد الإغلاق", "Confirm the closing"),
    # --- a request keyed in for someone else (call center, complaint box) ---
    "submit.kind": Text("نوع الطلب", "Kind of request"),
    "submit.entity": Text("الجهة الحكومية", "Government entity"),
    "submit.entity_unknown": Text("غير معروفة: توجّهه وحدة إدارة الشكاوى",
                                  "Not known: the complaints unit will route it"),
    "submit.subject": Text("الموضوع", "Subject"),
    "submit.subject_hint": Text("عنوان قصير للطلب.", "A short title for the request."),
    "submit.description": Text("التفاصيل", "Details"),
    "submit.description_hint": Text("ما الذي حدث، وأين، ومتى.", "What happened, where and when."),
    "submit.governorate": Text("المحافظة", "Governorate"),
    "submit.city": Text("المدينة أو المنطقة (اختياري)", "City or area (optional)"),
    "submit.declaration": Text("الإقرار", "Declaration"),
    "submit.not_before_court": Text(
        "يقرّ مقدّم الطلب بأن الموضوع ليس منظوراً أمام القضاء أو النيابة العامة ولم يصدر فيه "
        "حكم.",
        "The requester declares that the matter is not before a court or the public "
        "prosecution and has not been judged."),
    "submit.similar_title": Text("لمقدّم الطلب طلبات مفتوحة مشابهة لدى هذه الجهة",
                                 "The requester has similar open requests with this entity"),
    "submit.similar_lead": Text(
        "إن كان هذا الطلب مختلفاً عنها فأرسله مرة أخرى لتأكيده؛ وإلا فلا حاجة إلى تقديمه.",
        "If this request is different from them, send it again to confirm it; otherwise there "
        "is no need to submit it."),
    "submit.confirm": Text("أرسله طلباً جديداً", "Submit it as a new request"),
    "submit.submitted": Text("تاريخ التقديم", "Submitted"),
    "submit.older": Text("طلبات أقدم", "Older requests"),
    "submit.newest": Text("الأحدث", "Newest"),
    "language.ar": Text("العربية", "Arabic"),
    "language.en": Text("الإنجليزية", "English"),
    "date.day": Text("اليوم", "Day"),
    "date.month": Text("الشهر", "Month"),
    "date.year": Text("السنة", "Year"),
    # --- the call center ---
    "caller.title": Text("المتصلون", "Callers"),
    "caller.lead": Text(
        "تحقق من هوية المتصل لدى الأحوال المدنية لتقدّم طلباً باسمه، أو أخبره بحالة طلبه "
        "برقمه المرجعي ورقم هويته.",
        "Check the caller's identity with the civil registry to submit a request in their "
        "name, or tell them where their request stands from its reference number and their "
        "identity number."),
    "caller.check_title": Text("التحقق من هوية المتصل", "Check the caller's identity"),
    "caller.check_hint": Text("يُسأل عنه سجل الأحوال المدنية، والتحقق صالح لمكالمة واحدة.",
                              "The civil registry is asked; a check is good for one call."),
    "caller.id_type": Text("نوع الوثيقة", "Document"),
    "caller.id_number": Text("رقم الهوية", "Identity number"),
    "caller.name": Text("الاسم الرباعي كما في الهوية", "Four-part name, as on the ID card"),
    "caller.first_name": Text("الاسم الأول", "First name"),
    "caller.father_name": Text("اسم الأب", "Father's name"),
    "caller.grandfather_name": Text("اسم الجد", "Grandfather's name"),
    "caller.family_name": Text("اسم العائلة", "Family name"),
    "caller.date_of_birth": Text("تاريخ الميلاد", "Date of birth"),
    "caller.date_hint": Text("كما في الهوية، مثلاً 12 5 1990.",
                             "As on the ID card, for example 12 5 1990."),
    "caller.phone": Text("رقم الهاتف المحمول", "Mobile number"),
    "caller.phone_hint": Text("إن لم يكن للمتصل حساب: تصله عليه إشعارات الطلب.",
                              "When the caller has no account: the request's notices go to it."),
    "caller.language": Text("لغة المتصل", "The caller's language"),
    "caller.check": Text("تحقق", "Check"),
    "caller.checked": Text("أكّدت الأحوال المدنية هوية المتصل",
                           "The civil registry confirmed the caller's identity"),
    "caller.has_account": Text("لديه حساب في بخدمتكم: يجد الطلب في حسابه.",
                               "Has a Bekhedmetkom account: the request will be in it."),
    "caller.no_account": Text("ليس لديه حساب: تصله إشعارات الطلب على هاتفه.",
                              "Has no account: the request's notices go to their phone."),
    "caller.good_until": Text("التحقق صالح حتى", "The check is good until"),
    "caller.request_title": Text("الطلب باسم المتصل", "The caller's request"),
    "caller.submit": Text("قدّم الطلب", "Submit the request"),
    "caller.check_again": Text("تحقق من هوية المتصل من جديد", "Check the caller's identity again"),
    "caller.submitted_title": Text("قُدّم الطلب", "Request submitted"),
    "caller.tell_reference": Text("أخبر المتصل برقم طلبه المرجعي:",
                                  "Tell the caller their reference number:"),
    "caller.tell_code": Text("ورمز المتابعة، الذي يفتح به طلبه دون حساب:",
                             "And the tracking code, with which they open it without an account:"),
    "caller.tell_also": Text("يصله الرقم والرمز أيضاً في رسالة، ويتابع بهما طلبه على "
                             "bekhedmetkom.gov.jo/track.",
                             "They also receive both in a message, and follow the request with "
                             "them at bekhedmetkom.gov.jo/track."),
    "caller.next_call": Text("المكالمة التالية", "Next call"),
    "caller.lookup_title": Text("حالة طلب", "A request's status"),
    "caller.lookup_hint": Text(
        "اطلب من المتصل الرقم المرجعي ورقم هويته؛ لا يظهر الطلب إلا بهما معاً.",
        "Ask the caller for the reference number and their identity number; the request "
        "shows only with both."),
    "caller.reference": Text("الرقم المرجعي", "Reference number"),
    "caller.lookup": Text("اعرض الحالة", "Show the status"),
    "caller.lookup_not_found": Text(
        "لا يوجد طلب بهذا الرقم المرجعي لصاحب رقم الهوية هذا. تأكد من الرقمين مع المتصل.",
        "No request has this reference number for this identity number. Check both numbers "
        "with the caller."),
    "caller.status_title": Text("ما تخبر به المتصل", "What to tell the caller"),
    "caller.next_step": Text("الخطوة التالية", "Next step"),
    "caller.history": Text("ما جرى على الطلب", "What has happened so far"),
    "caller.answer": Text("الرد", "The answer"),
    "caller.estimated": Text("تقديري", "estimated"),
    "caller.mine": Text("الطلبات التي قدّمتها", "Requests you submitted"),
    "caller.none": Text("لم تقدّم طلبات بعد.", "You have not submitted any requests yet."),
    "caller.registry_down": Text(
        "الأحوال المدنية لا تجيب الآن. لم يُسجَّل شيء؛ أعد التحقق بعد دقيقة، ولا تقدّم طلباً "
        "دون تحقق.",
        "The civil registry is not answering right now. Nothing was recorded; check again in a "
        "minute, and do not submit without a check."),
    "caller.reason.name": Text("اطلب من المتصل تهجئة اسمه الرباعي كما في هويته.",
                               "Ask the caller to spell their four-part name as on their ID card."),
    "caller.reason.date_of_birth": Text("اطلب من المتصل تاريخ ميلاده كما في هويته.",
                                        "Ask the caller for the date of birth on their ID card."),
    "caller.reason.not_found": Text(
        "لا يعرف السجل هذا الرقم لهذا النوع من الوثائق. اطلب من المتصل قراءة الرقم من هويته، "
        "وتأكد من نوع الوثيقة.",
        "The registry does not know this number for this kind of document. Ask the caller to "
        "read it from their ID card, and check the document type."),
    "caller.reason.deceased": Text(
        "يسجّل السجل المدني صاحب هذا الرقم متوفى: لا يُقدَّم طلب باسمه. يستطيع قريبه تقديم "
        "طلب باسمه هو.",
        "The civil registry records the holder of this number as deceased: no request can be "
        "made in their name. A relative may submit one in their own name."),
    "id_type.national_number": Text("الرقم الوطني (أردني)", "National number (Jordanian)"),
    "id_type.personal_number": Text("الرقم الشخصي (مقيم غير أردني)",
                                    "Personal number (non-Jordanian resident)"),
    "id_type.passport": Text("جواز السفر", "Passport"),
    # --- the complaint box ---
    "paper.title": Text("الطلبات الورقية", "Paper requests"),
    "paper.lead": Text(
        "أدخل طلباً وصل ورقياً من صندوق الشكاوى مع صورته الممسوحة؛ يتسلّم مقدّمه رقمه المرجعي "
        "في إيصال.",
        "Key in a request that came on paper through the complaint box, with its scan; its "
        "requester gets the reference number on a receipt."),
    "paper.requester": Text("مقدّم الطلب", "Requester"),
    "paper.requester_name": Text("الاسم كما في الورقة", "Name, as on the form"),
    "paper.requester_phone": Text("رقم الهاتف المحمول", "Mobile number"),
    "paper.requester_phone_hint": Text("تصله عليه رسالة برقم الطلب، ثم إشعاراته.",
                                       "A message with the reference goes to it, then the "
                                       "request's notices."),
    "paper.requester_language": Text("لغة الرسائل", "Language of the messages"),
    "paper.request": Text("الطلب", "The request"),
    "paper.file": Text("الورقة الممسوحة", "The scanned form"),
    "paper.file_hint": Text("ملف PDF أو صورة JPEG أو PNG أو WebP؛ يُحكم على النوع من محتوى الملف.",
                            "A PDF, or a JPEG, PNG or WebP image; the type is judged by the "
                            "file's content."),
    "paper.kept": Text("أُرفق هذا الملف ولن يُرفع مرة أخرى:",
                       "This file is attached and will not be uploaded again:"),
    "paper.replace_hint": Text("لاستبداله اختر ملفاً آخر.", "To replace it, choose another file."),
    "paper.remove": Text("أزل هذا المرفق", "Remove this file"),
    "paper.submit": Text("أدخل الطلب", "Enter the request"),
    "paper.receipt_title": Text("إيصال طلب", "Request receipt"),
    "paper.receipt_lead": Text("سلّم مقدّم الطلب هذا الإيصال؛ يتابع طلبه برقمه المرجعي ورمز "
                               "المتابعة على bekhedmetkom.gov.jo/track دون حساب، ولا يعطي الرمز "
                               "لأحد.",
                               "Hand this receipt to the requester; they follow the request "
                               "with its reference number and tracking code at "
                               "bekhedmetkom.gov.jo/track without an account, and give the code "
                               "to nobody."),
    "paper.code_gone": Text("لا يظهر رمز المتابعة إلا في الجلسة التي أُدخل فيها الطلب؛ وقد وصل "
                            "مقدّمَ الطلب في رسالة.",
                            "The tracking code is shown only in the session the request was "
                            "keyed in; the requester has it in a text message."),
    "paper.receipt_note": Text("تصل مقدّم الطلب رسالة على هاتفه عند كل تغيير في حالة طلبه.",
                               "The requester gets a text message at every change in the "
                               "request's status."),
    "paper.print": Text("اطبع الإيصال", "Print the receipt"),
    "paper.download_pdf": Text("نزّل الإيصال (PDF)", "Download the receipt (PDF)"),
    "paper.another": Text("أدخل طلباً ورقياً آخر", "Enter another paper request"),
    "paper.mine": Text("الطلبات التي أدخلتها", "Requests you entered"),
    "paper.none": Text("لم تُدخل طلبات بعد.", "You have not entered any requests yet."),
    "paper.receipt": Text("الإيصال", "Receipt"),
    "error.too_large": Text("الملف أكبر من المسموح", "The file is too large"),
    "error.too_large_lead": Text(
        "لم يُحفظ شيء. امسح الورقة بدقة أقل، ثم أدخل الطلب مرة أخرى.",
        "Nothing was saved. Scan the paper at a lower resolution, then enter the request "
        "again."),
    # --- the integrity commission ---
    "sealed.title": Text("البلاغات المختومة", "Sealed reports"),
    "sealed.lead": Text(
        "لا يُفتح أي بلاغ على الخادم: نزّل الظرف المختوم وافتحه بمفتاح الهيئة الخاص على حاسوبها "
        "غير المتصل.",
        "No report is ever opened on the server: download the sealed envelope and open it with "
        "the commission's private key on its offline computer."),
    "sealed.show": Text("عرض", "Show"),
    "sealed.all": Text("كل البلاغات", "All reports"),
    "sealed.unacknowledged": Text("لم يؤكَّد استلامها", "Not acknowledged"),
    "sealed.acknowledged_only": Text("أُكِّد استلامها", "Acknowledged"),
    "sealed.list": Text("البلاغات المودعة، الأحدث أولاً", "Filed reports, newest first"),
    "sealed.report": Text("البلاغ", "Report"),
    "sealed.about": Text("عن البلاغ", "About the report"),
    "sealed.filed": Text("تاريخ الإيداع", "Filed on"),
    "sealed.key": Text("المفتاح", "Key"),
    "sealed.size": Text("الحجم", "Size"),
    "sealed.bytes": Text("بايت", "bytes"),
    "sealed.identity": Text("هوية المبلّغ", "Reporter's identity"),
    "sealed.identity_sealed": Text("مرفقة مختومة", "Attached, sealed"),
    "sealed.identity_none": Text("لم يرفقها", "Not attached"),
    "sealed.acknowledged": Text("تأكيد الاستلام", "Acknowledged"),
    "sealed.not_yet": Text("لم يؤكَّد بعد", "Not yet"),
    "sealed.notes": Text("ملاحظات للمبلّغ", "Notes to the reporter"),
    "sealed.empty": Text("لا بلاغات هنا.", "No reports here."),
    "sealed.back": Text("العودة إلى البلاغات", "Back to the reports"),
    "sealed.envelopes": Text("الظرفان المختومان", "Sealed envelopes"),
    "sealed.download": Text("نزّل البلاغ المختوم", "Download the sealed report"),
    "sealed.download_identity": Text("نزّل هوية المبلّغ المختومة",
                                     "Download the reporter's sealed identity"),
    "sealed.identity_hint": Text("افتحها فقط حين تقرر الهيئة ذلك.",
                                 "Open it only when the commission decides to."),
    "sealed.open_offline": Text("يُفتح الظرف بأداة الهيئة على حاسوبها غير المتصل:",
                                "Open an envelope with the commission's tool on its offline "
                                "computer:"),
    "sealed.actions": Text("الإجراءات", "Actions"),
    "sealed.acknowledge": Text("أكّد الاستلام", "Acknowledge receipt"),
    "sealed.acknowledge_hint": Text("يرى المبلّغ مع إيصاله أن الهيئة استلمت بلاغه.",
                                    "The reporter sees with their receipt that the commission "
                                    "received the report."),
    "sealed.note": Text("ملاحظة للمبلّغ", "Note for the reporter"),
    "sealed.note_hint": Text(
        "يراها المبلّغ مع إيصاله. نص عادي؛ لا تكتب فيها ما قد يدل على هويته.",
        "The reporter sees it with their receipt. Plain text; write nothing that could "
        "identify them."),
    "sealed.post_note": Text("أرسل الملاحظة", "Release the note"),
    "sealed.no_notes": Text("لم تُرسل ملاحظات بعد.", "No notes released yet."),
    "sealed.done.acknowledgement": Text("تم تأكيد الاستلام.", "Receipt acknowledged."),
    "sealed.done.cannot-be-opened": Text(
        "سُجّل أن البلاغ لا يمكن فتحه؛ يطلب إيصال المبلّغ منه إرسال بلاغ جديد.",
        "Recorded as impossible to open; the reporter's receipt asks for a new report."),
    "sealed.unopenable": Text("لا يمكن فتح البلاغ", "The report cannot be opened"),
    "sealed.unopenable_hint": Text(
        "إن لم تفتحه أداة الهيئة بمفتاحها الصحيح (تالف أو مختوم على غير وجهه) فصرّح بذلك: يُبلَّغ "
        "المبلّغ عبر إيصاله بأن يرسل بلاغاً جديداً. لا رجوع عن هذا التصريح.",
        "If the commission's tool does not open it with the right key (damaged, or badly "
        "sealed), declare so: the reporter's receipt asks them for a new report. It cannot be "
        "undone."),
    "sealed.unopenable_declare": Text("التصريح بأنه لا يمكن فتحه",
                                      "Declare it cannot be opened"),
    "sealed.declared_unopenable": Text("صُرّح بأنه لا يمكن فتحه في",
                                       "Declared impossible to open on"),
    "sealed.done.notes": Text("أُرسلت الملاحظة إلى المبلّغ.",
                              "The note was released to the reporter."),
    # --- administration: the frame of its pages ---
    "admin.crumbs": Text("مسار الصفحة", "You are here"),
    "admin.sections": Text("أقسام هذه الصفحة", "Sections"),
    "admin.cancel": Text("إلغاء", "Cancel"),
    "admin.keep": Text("لا، عودة", "No, go back"),
    "admin.save": Text("حفظ التغييرات", "Save changes"),
    "admin.none": Text("لا شيء هنا بعد.", "Nothing here yet."),
    "admin.yes": Text("نعم", "Yes"),
    "admin.no": Text("لا", "No"),
    "admin.actions": Text("إجراءات", "Actions"),
    "admin.done_created": Text("تمت الإضافة.", "Added."),
    "admin.done_updated": Text("حُفظت التغييرات.", "Changes saved."),
    "admin.done_retired": Text("أُوقف العمل به. يبقى في السجل وفي الطلبات السابقة.",
                               "Retired. It stays in the history and in earlier requests."),
    # --- the directory ---
    "admin.sectors_entities": Text("القطاعات والجهات", "Sectors and entities"),
    "admin.sectors": Text("القطاعات", "Sectors"),
    "admin.sectors_lead": Text("كل قطاع وزارة وما يتبعها من جهات ودوائر.",
                               "Each sector is a ministry with its entities and departments."),
    "admin.sector": Text("القطاع", "Sector"),
    "admin.entities": Text("الجهات", "Entities"),
    "admin.entity": Text("الجهة", "Entity"),
    "admin.department": Text("الدائرة", "Department"),
    "admin.departments": Text("الدوائر التابعة", "Departments"),
    "admin.name": Text("الاسم", "Name"),
    "admin.name_ar": Text("الاسم بالعربية", "Name in Arabic"),
    "admin.name_en": Text("الاسم بالإنجليزية", "Name in English"),
    "admin.code": Text("الرمز", "Code"),
    "admin.state": Text("الحالة", "State"),
    "admin.current": Text("نافذ", "Current"),
    "admin.retired": Text("موقوف", "Retired"),
    "admin.current_entities": Text("الجهات النافذة", "Current entities"),
    "admin.show_retired": Text("عرض الموقوفة أيضاً", "Show retired ones too"),
    "admin.hide_retired": Text("إخفاء الموقوفة", "Hide retired ones"),
    "admin.add_sector": Text("إضافة قطاع", "Add a sector"),
    "admin.sector_code_hint": Text("حروف لاتينية كبيرة وأرقام، مثل MOH. لا يتغير بعد الإضافة.",
                                   "Capital Latin letters and digits, such as MOH. It cannot "
                                   "change later."),
    "admin.edit_names": Text("تعديل الاسم", "Edit the name"),
    "admin.add_entity": Text("إضافة جهة", "Add an entity"),
    "admin.add_department": Text("إضافة دائرة", "Add a department"),
    "admin.edit_entity": Text("تعديل الجهة", "Edit the entity"),
    "admin.entity_code_hint": Text("حروف لاتينية كبيرة وأرقام وشرطات، مثل MOH-JFDA. لا يتغير "
                                   "بعد الإضافة.",
                                   "Capital Latin letters, digits and dashes, such as MOH-JFDA. "
                                   "It cannot change later."),
    "admin.entity_kind": Text("نوع الجهة", "Kind of entity"),
    "admin.parent": Text("تتبع لـ", "Part of"),
    "admin.parent_hint": Text("للدائرة: الجهة التي تتبع لها، في القطاع نفسه.",
                              "For a department: the entity it belongs to, in the same sector."),
    "admin.no_parent": Text("لا تتبع لجهة (جهة رئيسية)", "None (a top-level entity)"),
    "admin.entity_staff": Text("موظفو الجهة", "The entity's staff"),
    "admin.entity_people": Text("الموظفون المكلّفون بها", "People assigned to it"),
    "admin.add_officer_here": Text("إضافة ضابط ارتباط لها", "Add a liaison officer here"),
    "admin.retire_sector": Text("إيقاف العمل بالقطاع", "Retire the sector"),
    "admin.retire_entity": Text("إيقاف العمل بالجهة", "Retire the entity"),
    "admin.retire_classification": Text("إيقاف العمل بالتصنيف", "Retire the classification"),
    "admin.retire_lead": Text("لن يستقبل طلبات أو موظفين جدداً. يبقى في السجل وفي الطلبات "
                              "السابقة كما هو، ولا يمكن إعادته من هنا.",
                              "It takes no new requests or staff. It stays as it is in the "
                              "history and in earlier requests, and cannot be restored here."),
    "admin.retired_lead": Text("أُوقف العمل بهذا التصنيف: لا يُختار عند قبول الطلبات.",
                               "This classification is retired: it is not offered when "
                               "requests are accepted."),
    "admin.classifications": Text("التصنيفات", "Classifications"),
    "admin.classifications_lead": Text(
        "يختار ضابط الارتباط التصنيف عند قبول الطلب، ويحدد مدة المعالجة ضمن حده الأقصى.",
        "Officers choose a classification when they accept a request, and set its processing "
        "time within its maximum."),
    "admin.add_classification": Text("إضافة تصنيف", "Add a classification"),
    "admin.edit_classification": Text("تعديل التصنيف", "Edit the classification"),
    "admin.classification_code_hint": Text("حروف لاتينية صغيرة ونقاط، مثل complaint.roads. لا "
                                           "يتغير بعد الإضافة.",
                                           "Lower-case Latin letters and dots, such as "
                                           "complaint.roads. It cannot change later."),
    "admin.request_kind": Text("نوع الطلب", "Kind of request"),
    "admin.max_working_days": Text("الحد الأقصى لمدة المعالجة (أيام عمل)",
                                   "Longest processing time (working days)"),
    "admin.max_working_days_hint": Text("أطول مدة يحددها ضابط الارتباط عند القبول؛ تسري على "
                                        "القبول الجديد فقط.",
                                        "The most an officer may set on accepting; it applies "
                                        "to new acceptances only."),
    "admin.log": Text("سجل التغييرات", "Change log"),
    "admin.log_lead": Text("كل تغيير في الدليل والموظفين والصلاحيات: من ومتى، وما كان وما صار.",
                           "Every change to the directory, people and permissions: who, when, "
                           "before and after."),
    "admin.log_filter": Text("تصفية السجل", "Filter the log"),
    "admin.log_subject": Text("ما تغيّر", "What changed"),
    "admin.log_changes": Text("التغييرات، الأحدث أولاً", "Changes, newest first"),
    "admin.when": Text("متى", "When"),
    "admin.who": Text("من", "Who"),
    "admin.what": Text("ماذا", "What"),
    "admin.change": Text("التغيير", "Change"),
    "admin.details": Text("التفاصيل", "Details"),
    "admin.seed": Text("البيانات الأولية", "Initial data"),
    "admin.newest": Text("الأحدث", "Newest"),
    "admin.older": Text("الأقدم", "Older"),
    # --- people ---
    "people.list": Text("الموظفون", "People"),
    "people.filters": Text("تصفية الموظفين", "Filter people"),
    "people.none": Text("لا موظفين يطابقون هذه التصفية.", "Nobody matches these filters."),
    "people.search": Text("بحث", "Search"),
    "people.search_hint": Text("جزء من الاسم أو من اسم المستخدم", "Part of the name or the "
                               "username"),
    "people.add": Text("إضافة موظف", "Add a person"),
    "people.add_lead": Text("أنشئ الحساب ثم سلّم صاحبه اسم المستخدم وكلمة المرور.",
                            "Create the account, then hand its owner the username and the "
                            "password."),
    "people.add_another": Text("إضافة موظف آخر", "Add another person"),
    "people.name": Text("الاسم", "Name"),
    "people.full_name": Text("الاسم الكامل", "Full name"),
    "people.username": Text("اسم المستخدم", "Username"),
    "people.username_hint": Text("حروف لاتينية صغيرة وأرقام ونقطة أو شرطة، من 3 إلى 64 حرفاً، "
                                 "مثل rana.haddad.",
                                 "Lower-case Latin letters, digits, dots or dashes, 3 to 64 "
                                 "characters, such as rana.haddad."),
    "people.phone": Text("الهاتف", "Phone"),
    "people.phone_hint": Text("بالصيغة الدولية، مثل \u200e+962791234567",
                              "International form, such as +962791234567"),
    "people.email": Text("البريد الإلكتروني", "Email"),
    "people.language": Text("لغة الإشعارات", "Language of notices"),
    "people.language_ar": Text("العربية", "Arabic"),
    "people.language_en": Text("الإنجليزية", "English"),
    "people.notice_channel": Text("قناة الإشعارات", "Notices by"),
    "people.notice_channel_hint": Text("تحتاج الرسائل النصية رقم هاتف، والبريد عنواناً.",
                                       "Text messages need a phone number, email an address."),
    "people.role": Text("الدور", "Role"),
    "people.no_role": Text("بلا دور", "No role"),
    "people.no_role_now": Text("لا دور له الآن: لا يستطيع العمل على المنصة.",
                               "No role at present: they cannot work on the platform."),
    "people.scope": Text("النطاق", "Scope"),
    "people.everywhere": Text("غير مقيّد بقطاع أو جهة", "Not limited to a sector or entity"),
    "people.scope_sector": Text("القطاع", "Sector"),
    "people.scope_sector_hint": Text("لضابط الارتباط الرئيسي والوزير.",
                                     "For a main liaison officer and a minister."),
    "people.scope_entity": Text("الجهة أو الدائرة", "Entity or department"),
    "people.scope_entity_hint": Text("لضابط الارتباط الفرعي ورئيس الجهة.",
                                     "For a sub-liaison officer and an entity head."),
    "people.no_scope": Text("لا شيء", "None"),
    "people.initial_password": Text("كلمة المرور الأولى", "First password"),
    "people.new_password": Text("كلمة المرور الجديدة", "New password"),
    "people.initial_password_hint": Text(
        "مقترحة قوية؛ يمكنك كتابة غيرها. ستُعرض عليك مرة واحدة بعد الحفظ لتسلّمها.",
        "A strong one is suggested; you may type another. It is shown to you once after "
        "saving, to hand over."),
    "people.password": Text("كلمة المرور", "Password"),
    "people.status": Text("الحالة", "Status"),
    "people.active": Text("فعّال", "Active"),
    "people.inactive": Text("موقوف", "Deactivated"),
    "people.details": Text("بيانات الاتصال", "Contact details"),
    "people.edit": Text("تعديل البيانات", "Edit the details"),
    "people.role_and_scope": Text("الدور والنطاق", "Role and scope"),
    "people.since": Text("منذ", "Since"),
    "people.change_role": Text("تغيير الدور أو إضافة نطاق", "Change the role or add a scope"),
    "people.change_role_lead": Text(
        "الدور نفسه بنطاق آخر يضيف النطاق؛ دور آخر يحل محل الدور الحالي، وتنتهي جلسات الموظف.",
        "The same role for another scope adds the scope; another role replaces the current one, "
        "and the person's sessions end."),
    "people.grant": Text("منح", "Grant"),
    "people.deny": Text("حجب", "Deny"),
    "people.end_role": Text("إنهاء التكليف", "End the assignment"),
    "people.end_role_lead": Text("لن يعمل الموظف في هذا النطاق بعد الآن، وتنتهي جلساته.",
                                 "The person no longer works in this scope, and their sessions "
                                 "end."),
    "people.history": Text("السجل", "History"),
    "people.permissions": Text("الصلاحيات", "Permissions"),
    "people.permissions_lead": Text(
        "يأخذ الموظف صلاحيات دوره. هنا تُستثنى صلاحية له وحده: تُمنح أو تُحجب، من طلبه التالي.",
        "A person has their role's permissions. Here one is made an exception for them alone: "
        "granted or denied, from their next request."),
    "people.permission": Text("الصلاحية", "Permission"),
    "people.by_role": Text("يمنحها الدور", "Given by the role"),
    "people.may_now": Text("يملكها الآن", "Has it now"),
    "people.exception": Text("استثناء", "Exception"),
    "people.as_role_option": Text("كما في الدور", "As the role"),
    "people.as_role": Text("صلاحيات دوره، بلا استثناء.", "Their role's permissions, no "
                           "exceptions."),
    "people.has_exceptions": Text("له استثناءات من صلاحيات دوره.",
                                  "They have exceptions to their role's permissions."),
    "people.edit_permissions": Text("استثناءات الصلاحيات", "Permission exceptions"),
    "people.groups": Text("صلاحيات الأدوار", "Permissions by role"),
    "people.groups_lead": Text("ما يستطيعه كل من يحمل الدور، من طلبه التالي.",
                               "What everyone in a role may do, from their next request."),
    "people.group_permissions": Text("الصلاحيات", "Permissions"),
    "people.group_permissions_hint": Text("اختر ما يستطيعه كل من يحمل هذا الدور.",
                                          "Tick what everyone in this role may do."),
    "people.group_lead": Text("يسري التغيير على كل من يحمل الدور من طلبه التالي.",
                              "The change applies to everyone in the role from their next "
                              "request."),
    "people.no_permissions": Text("لا صلاحيات في هذه الخدمة.", "No permissions here."),
    "people.access": Text("الدخول", "Access"),
    "people.reset_password": Text("تعيين كلمة مرور جديدة", "Set a new password"),
    "people.reset_password_lead": Text("تنتهي كل جلسات الموظف، ويدخل بكلمة المرور الجديدة.",
                                       "All the person's sessions end; they sign in with the "
                                       "new password."),
    "people.deactivate": Text("إيقاف الحساب", "Deactivate the account"),
    "people.deactivate_lead": Text(
        "يخرج الموظف فوراً من كل جلساته ولا يستطيع الدخول حتى يُعاد تفعيل حسابه.",
        "The person is signed out at once everywhere and cannot sign in until the account is "
        "reactivated."),
    "people.reactivate": Text("إعادة تفعيل الحساب", "Reactivate the account"),
    "people.this_is_you": Text("هذا حسابك: لا تغيّر دورك أو صلاحياتك أو توقفه بنفسك.",
                               "This is your account: you cannot change your own role or "
                               "permissions, or deactivate it."),
    "people.handover_title": Text("الحساب جاهز للتسليم", "The account is ready to hand over"),
    "people.handover_reset": Text("كلمة المرور جاهزة للتسليم", "The password is ready to hand "
                                  "over"),
    "people.created": Text("أُنشئ الحساب.", "The account was created."),
    "people.password_set": Text("عُيّنت كلمة المرور الجديدة.", "The new password is set."),
    "people.handover_lead": Text("سلّم صاحب الحساب ما يلي بنفسك أو بقناة تثق بها وحدتك.",
                                 "Hand the account's owner the following, in person or by a "
                                 "channel your unit trusts."),
    "people.handover_once": Text("لن تُعرض كلمة المرور مرة أخرى: لا تُحفظ في مكان يمكن قراءتها "
                                 "منه. إن ضاعت فعيّن غيرها.",
                                 "The password is not shown again: it is kept nowhere it can be "
                                 "read from. If it is lost, set a new one."),
    "people.sign_in_at": Text("عنوان الدخول", "Sign in at"),
    "people.open_person": Text("صفحة الموظف", "The person's page"),
    "people.done_updated": Text("حُفظت التغييرات.", "Changes saved."),
    "people.done_role": Text("حُفظ الدور والنطاق.", "The role and scope are saved."),
    "people.done_role_ended": Text("انتهى التكليف.", "The assignment ended."),
    "people.done_deactivated": Text("أُوقف الحساب وانتهت جلساته.",
                                    "The account is deactivated and its sessions ended."),
    "people.done_reactivated": Text("أُعيد تفعيل الحساب.", "The account is active again."),
    "people.done_permissions": Text("حُفظت الصلاحيات.", "Permissions saved."),
    # --- the calendar and the time limits ---
    "calendar.days_off": Text("العطل والتقويم", "Days off and the calendar"),
    "calendar.years": Text("السنوات", "Years"),
    "calendar.previous_year": Text("السنة السابقة", "Previous year"),
    "calendar.next_year": Text("السنة التالية", "Next year"),
    "calendar.hours": Text("أيام العمل وساعاته", "Working days and hours"),
    "calendar.working_days": Text("أيام العمل", "Working days"),
    "calendar.official_hours": Text("ساعات الدوام", "Official hours"),
    "calendar.ramadan_hours": Text("ساعات الدوام في رمضان", "Hours in Ramadan"),
    "calendar.same_hours": Text("ساعات الدوام نفسها", "The official hours"),
    "calendar.policy_version": Text("إصدار السياسة النافذ", "Policy version in force"),
    "calendar.hours_in_policy": Text("تُغيَّر الأيام والساعات بإصدار جديد من سياسة المهل:",
                                     "Days and hours change with a new version of the SLA "
                                     "policy:"),
    "calendar.holidays": Text("العطل", "Days off"),
    "calendar.holiday": Text("العطلة", "Day off"),
    "calendar.day": Text("اليوم", "Day"),
    "calendar.day_hint": Text("من سنة مضت إلى خمس سنوات قادمة.",
                              "From a year ago to five years ahead."),
    "calendar.source": Text("المصدر", "Source"),
    "calendar.source_official": Text("رسمية", "Official"),
    "calendar.source_cmu": Text("أعلنتها الوحدة", "Declared by the unit"),
    "calendar.estimated": Text("تقديرية", "Estimated"),
    "calendar.declare": Text("إعلان عطلة", "Declare a day off"),
    "calendar.declare_lead": Text("يصبح اليوم عطلة وتتحرك المهل المفتوحة التي تمر به.",
                                  "The day becomes a day off, and open deadlines across it "
                                  "move."),
    "calendar.move": Text("نقل", "Move"),
    "calendar.move_to": Text("إلى يوم", "To the day"),
    "calendar.move_lead": Text("مثل عيد أُعلن في غير يومه المقدّر: يصبح اليوم الأول يوم عمل "
                               "والثاني عطلة.",
                               "Such as an Eid announced on another day than estimated: the "
                               "first day becomes a working day, the second a day off."),
    "calendar.remove": Text("جعله يوم عمل", "Make it a working day"),
    "calendar.remove_lead": Text("يصبح هذا اليوم يوم عمل وتتحرك المهل المفتوحة التي تمر به.",
                                 "This day becomes a working day, and open deadlines across it "
                                 "move."),
    "calendar.ramadan": Text("رمضان", "Ramadan"),
    "calendar.ramadan_announced": Text("معلن", "Announced"),
    "calendar.ramadan_estimated": Text("تقديري", "Estimated"),
    "calendar.announce_ramadan": Text("إعلان رمضان", "Announce Ramadan"),
    "calendar.announce_ramadan_lead": Text("أول يوم وآخر يوم كما أُعلنا؛ يحل الإعلان محل "
                                           "التقدير.",
                                           "Its first and last day as announced; the "
                                           "announcement replaces the estimate."),
    "calendar.first_day": Text("أول يوم", "First day"),
    "calendar.last_day": Text("آخر يوم", "Last day"),
    "calendar.month": Text("أيام الشهر", "The days of a month"),
    "calendar.months": Text("الأشهر", "Months"),
    "calendar.month_caption": Text("كل يوم كما تحسبه المهل", "Each day as deadlines count it"),
    "calendar.previous_month": Text("الشهر السابق", "Previous month"),
    "calendar.next_month": Text("الشهر التالي", "Next month"),
    "calendar.working": Text("يوم عمل", "Working day"),
    "calendar.note": Text("ملاحظة", "Note"),
    "calendar.policy": Text("سياسة المهل", "SLA policy"),
    "calendar.policy_lead": Text("المهل وأيام العمل وساعاته، بكل إصداراتها، الأحدث أولاً.",
                                 "Time limits, working days and hours, every version, newest "
                                 "first."),
    "calendar.version": Text("الإصدار", "Version"),
    "calendar.in_force": Text("النافذ", "In force"),
    "calendar.effective_from": Text("نافذ منذ", "In force since"),
    "calendar.new_version": Text("إصدار جديد", "New version"),
    "calendar.new_version_lead": Text("يبدأ من الإصدار النافذ؛ غيّر ما يلزم ثم انشره.",
                                      "It starts from the version in force: change what you "
                                      "need, then publish."),
    "calendar.publish": Text("نشر الإصدار", "Publish the version"),
    "calendar.official_opens": Text("يبدأ الدوام", "Opens at"),
    "calendar.official_closes": Text("ينتهي الدوام", "Closes at"),
    "calendar.ramadan_opens": Text("يبدأ الدوام في رمضان", "Opens in Ramadan at"),
    "calendar.ramadan_closes": Text("ينتهي الدوام في رمضان", "Closes in Ramadan at"),
    "calendar.ramadan_hours_hint": Text("اتركهما فارغين لتبقى ساعات الدوام نفسها في رمضان.",
                                        "Leave both empty to keep the official hours in "
                                        "Ramadan."),
    "calendar.first_response_working_days": Text("الرد الأول (أيام عمل)",
                                                 "First response (working days)"),
    "calendar.entity_head_after_working_days": Text("إبلاغ رئيس الجهة بعد (أيام عمل)",
                                                    "Entity head told after (working days)"),
    "calendar.minister_after_working_days": Text("إبلاغ الوزير بعد (أيام عمل)",
                                                 "Minister told after (working days)"),
    "calendar.inquiry_working_days": Text("الاستفسار (أيام عمل)", "Inquiry (working days)"),
    "calendar.suggestion_working_days": Text("الاقتراح (أيام عمل)", "Suggestion (working days)"),
    "calendar.rating_window_working_days": Text("مهلة التقييم (أيام عمل)",
                                                "Rating window (working days)"),
    "calendar.review_working_days": Text("مراجعة الوحدة (أيام عمل)",
                                         "The unit's review (working days)"),
    "calendar.cmu_hears_of_escalations": Text("تُبلَّغ الوحدة بالتصعيد",
                                              "The unit hears of escalations"),
    "calendar.applies_to_open": Text("تطبيقه على المهل المفتوحة أيضاً",
                                     "Apply it to open deadlines too"),
    "calendar.applies_to_open_hint": Text("وإلا يسري على المهل الجديدة فقط.",
                                          "Otherwise it applies to new deadlines only."),
    "calendar.applies_to_open_short": Text("يسري على المهل المفتوحة",
                                           "Applies to open deadlines"),
    "calendar.reason": Text("السبب", "Reason"),
    "calendar.done_holiday_added": Text("أُعلنت العطلة وتتحرك المهل المفتوحة.",
                                        "The day off is declared; open deadlines move."),
    "calendar.done_holiday_moved": Text("نُقلت العطلة.", "The day off was moved."),
    "calendar.done_holiday_removed": Text("أصبح اليوم يوم عمل.", "The day is a working day now."),
    "calendar.done_ramadan_announced": Text("أُعلن رمضان.", "Ramadan is announced."),
    "calendar.done_policy_published": Text("نُشر الإصدار الجديد.", "The new version is "
                                           "published."),
}

STAGE: Final[dict[str, Text]] = {
    SlaStage.first_response: Text("الرد الأول", "First response"),
    SlaStage.processing: Text("المعالجة", "Processing"),
    SlaStage.rating_window: Text("مهلة التقييم", "Rating window"),
    SlaStage.review: Text("المراجعة", "Review"),
}

STEP: Final[dict[str, Text]] = {
    "received": Text("استُلم الطلب", "Received"),
    "assigned": Text("أُسند إلى الجهة", "Assigned"),
    "triage": Text("أُحيل إلى الفرز", "Sent to triage"),
    "accepted": Text("قُبل الاختصاص", "Accepted"),
    "jurisdiction_refused": Text("رُفض الاختصاص", "Jurisdiction refused"),
    "distributed": Text("وُزّع", "Distributed"),
    "transferred": Text("حُوّل", "Transferred"),
    "info_requested": Text("طُلبت معلومات من مقدّم الطلب", "Information requested"),
    "info_provided": Text("أجاب مقدّم الطلب", "The requester answered"),
    "extended": Text("مُدّدت المهلة", "Deadline extended"),
    "responded": Text("تم الرد", "Responded"),
    "rated": Text("قيّم مقدّم الطلب الرد", "The requester rated the answer"),
    "chased": Text("ذكّر مقدّم الطلب بتأخر الرد", "The requester chased the late answer"),
    "review_opened": Text("فُتحت مراجعة", "Review opened"),
    "reopened": Text("أُعيد فتح الطلب", "Reopened"),
    "rejected": Text("رُفض لعدم القبول", "Rejected as inadmissible"),
    "closed": Text("أُغلق", "Closed"),
    "merged": Text("دُمجت مكررات فيه", "Duplicates merged into it"),
    "escalated": Text("صُعّد", "Escalated"),
    "deadline_passed": Text("فات الموعد", "Deadline passed"),
    "comment": Text("ملاحظة للسجل", "Comment for the record"),
}

DETAIL: Final[dict[str, Text]] = {
    "reason": Text("السبب", "Reason"),
    "question": Text("السؤال", "Question"),
    "answer": Text("الجواب", "Answer"),
    "actions_taken": Text("الإجراءات المتخذة", "Actions taken"),
    "solution": Text("الحل", "Solution"),
    "review": Text("قرار المراجعة", "Review decision"),
    "note": Text("ملاحظة", "Note"),
    "comment": Text("الملاحظة", "Comment"),
    "text": Text("الملاحظة", "Comment"),
}

STATUS: Final[dict[str, Text]] = {
    RequestStatus.received: Text("مستلم", "Received"),
    RequestStatus.triage: Text("فرز", "Triage"),
    RequestStatus.assigned: Text("جديد", "New"),
    RequestStatus.in_progress: Text("قيد المعالجة", "In progress"),
    RequestStatus.awaiting_information: Text("بانتظار مقدّم الطلب", "Awaiting requester"),
    RequestStatus.responded: Text("تم الرد", "Responded"),
    RequestStatus.under_review: Text("قيد المراجعة", "Under review"),
    RequestStatus.closed: Text("مغلق", "Closed"),
    RequestStatus.rejected: Text("غير مقبول", "Inadmissible"),
}

KIND: Final[dict[str, Text]] = {
    RequestKind.complaint: Text("شكوى", "Complaint"),
    RequestKind.suggestion: Text("اقتراح", "Suggestion"),
    RequestKind.inquiry: Text("استفسار", "Inquiry"),
    RequestKind.praise: Text("ثناء", "Praise"),
    RequestKind.report: Text("إبلاغ", "Report"),
}

CHANNEL: Final[dict[str, Text]] = {
    Channel.mobile_app: Text("التطبيق", "Mobile app"),
    Channel.portal: Text("البوابة", "Portal"),
    Channel.call_center: Text("مركز الاتصال", "Call center"),
    Channel.complaint_box: Text("صندوق الشكاوى", "Complaint box"),
    Channel.chatbot: Text("المحادثة الآلية", "Chatbot"),
    Channel.service_center: Text("مركز الخدمة", "Service centre"),
}

CLOSING: Final[dict[str, Text]] = {
    ClosingCode.resolved: Text("حُلّ", "Resolved"),
    ClosingCode.partly_resolved: Text("حُلّ جزئياً", "Partly resolved"),
    ClosingCode.rejected: Text("مرفوض", "Rejected"),
    ClosingCode.duplicate: Text("مكرر", "Duplicate"),
    ClosingCode.withdrawn: Text("سحبه مقدّمه", "Withdrawn"),
    ClosingCode.no_response_from_requester: Text("لم يستجب مقدّم الطلب",
                                                 "No response from the requester"),
}

LEGAL_GROUND: Final[dict[str, Text]] = {
    LegalGround.before_court: Text("منظور أمام القضاء", "Before a court"),
    LegalGround.before_public_prosecution: Text("منظور أمام النيابة العامة",
                                                "Before the public prosecution"),
    LegalGround.already_judged: Text("صدر فيه حكم", "Already judged"),
    LegalGround.malicious: Text("كيدي", "Malicious"),
}

ROLE: Final[dict[str, Text]] = {  # keys: a Role, or an actor of the timeline
    Role.main_liaison_officer: Text("ضابط الارتباط الرئيسي", "Main liaison officer"),
    Role.sub_liaison_officer: Text("ضابط ارتباط فرعي", "Sub-liaison officer"),
    Role.entity_head: Text("رئيس الجهة", "Entity head"),
    Role.minister: Text("الوزير", "Minister"),
    Role.cmu_staff: Text("وحدة إدارة الشكاوى", "Complaints unit"),
    Role.cmu_admin: Text("مسؤول وحدة إدارة الشكاوى", "Complaints unit administrator"),
    Role.call_center_agent: Text("موظف مركز الاتصال", "Call-center agent"),
    Role.complaint_box_clerk: Text("موظف صندوق الشكاوى", "Complaint-box clerk"),
    Role.integrity_commission: Text("هيئة النزاهة", "Integrity commission"),
    Role.decision_maker: Text("صاحب قرار", "Decision maker"),
    # Who else stands on a timeline: the requester, a clerk or agent who keyed it in, the
    # platform's own rules.
    Role.citizen: Text("مقدّم الطلب", "The requester"),
    "staff": Text("موظف أدخل الطلب", "Staff who keyed it in"),
    "system": Text("المنصة", "The platform"),
}

NOTICE_CHANNEL: Final[dict[str, Text]] = {
    "sms": Text("رسالة نصية", "SMS"),
    "email": Text("بريد إلكتروني", "Email"),
}

ENTITY_KIND: Final[dict[str, Text]] = {
    "ministry": Text("وزارة", "Ministry"),
    "department": Text("دائرة", "Department"),
    "authority": Text("سلطة", "Authority"),
    "commission": Text("هيئة", "Commission"),
    "corporation": Text("مؤسسة", "Corporation"),
    "municipality": Text("بلدية", "Municipality"),
}

PERMISSION: Final[dict[str, Text]] = {
    "cases.read": Text("قراءة الطلبات", "Read requests"),
    "cases.accept": Text("قبول الاختصاص", "Accept requests"),
    "cases.refuse_jurisdiction": Text("رفض الاختصاص", "Refuse jurisdiction"),
    "cases.distribute": Text("التوزيع على الدوائر", "Distribute to departments"),
    "cases.transfer": Text("التحويل إلى جهة أخرى", "Transfer to another entity"),
    "cases.ask_info": Text("طلب معلومات من مقدّم الطلب", "Ask the requester"),
    "cases.extend": Text("تمديد المدة", "Extend deadlines"),
    "cases.respond": Text("الرد", "Respond"),
    "cases.reject": Text("الرفض لعدم القبول", "Reject as inadmissible"),
    "cases.reject_malicious": Text("الرفض لكيدية الطلب", "Reject as malicious"),
    "cases.close": Text("الإغلاق", "Close"),
    "cases.merge": Text("دمج المكررات", "Merge duplicates"),
    "cases.triage": Text("الفرز", "Triage"),
    "cases.review": Text("مراجعة التقييمات المتدنية", "Review low ratings"),
    "cases.comment": Text("ملاحظة للسجل", "Comment for the record"),
    "audit.verify": Text("التحقق من سلامة السجل", "Verify the audit trail"),
    "directory.manage": Text("إدارة الدليل", "Manage the directory"),
    "directory.staff": Text("إدارة الموظفين والصلاحيات", "Manage people and permissions"),
}

LOG_SUBJECT: Final[dict[str, Text]] = {
    "sector": Text("قطاع", "Sector"),
    "entity": Text("جهة", "Entity"),
    "classification": Text("تصنيف", "Classification"),
    "person": Text("موظف", "Person"),
    "role": Text("تكليف", "Assignment"),
    "permissions": Text("صلاحيات", "Permissions"),
}

LOG_CHANGE: Final[dict[str, Text]] = {
    "seeded": Text("بيانات أولية", "Initial data"),
    "created": Text("إضافة", "Added"),
    "updated": Text("تعديل", "Changed"),
    "retired": Text("إيقاف", "Retired"),
    "deactivated": Text("إيقاف الحساب", "Deactivated"),
    "reactivated": Text("إعادة تفعيل", "Reactivated"),
    "password_reset": Text("كلمة مرور جديدة", "New password"),
    "granted": Text("منح", "Granted"),
    "revoked": Text("إنهاء", "Ended"),
}

LOG_FIELD: Final[dict[str, Text]] = {
    "name_ar": Text("الاسم بالعربية", "Name in Arabic"),
    "name_en": Text("الاسم بالإنجليزية", "Name in English"),
    "kind": Text("النوع", "Kind"),
    "sector": Text("القطاع", "Sector"),
    "parent": Text("تتبع لـ", "Part of"),
    "entity": Text("الجهة", "Entity"),
    "max_working_days": Text("الحد الأقصى", "Maximum"),
    "retired_at": Text("أُوقف في", "Retired at"),
    "username": Text("اسم المستخدم", "Username"),
    "full_name": Text("الاسم", "Name"),
    "phone": Text("الهاتف", "Phone"),
    "email": Text("البريد", "Email"),
    "language": Text("اللغة", "Language"),
    "notice_channel": Text("قناة الإشعارات", "Notices by"),
    "active": Text("فعّال", "Active"),
    "role": Text("الدور", "Role"),
    "permissions": Text("الصلاحيات", "Permissions"),
    "overrides": Text("الاستثناءات", "Exceptions"),
}

WEEKDAY: Final[dict[str, Text]] = {  # `date.weekday()` numbers, as the SLA policy keeps them
    "0": Text("الاثنين", "Monday"),
    "1": Text("الثلاثاء", "Tuesday"),
    "2": Text("الأربعاء", "Wednesday"),
    "3": Text("الخميس", "Thursday"),
    "4": Text("الجمعة", "Friday"),
    "5": Text("السبت", "Saturday"),
    "6": Text("الأحد", "Sunday"),
}

LANGUAGE: Final[dict[str, Text]] = {
    "ar": Text("العربية", "Arabic"),
    "en": Text("الإنجليزية", "English"),
}

VOCABULARIES: Final[dict[str, dict[str, Text]]] = {
    "status": STATUS, "kind": KIND, "channel": CHANNEL, "closing": CLOSING,
    "legal_ground": LEGAL_GROUND, "role": ROLE, "stage": STAGE,
    "step": STEP, "detail": DETAIL, "notice_channel": NOTICE_CHANNEL,
    "entity_kind": ENTITY_KIND, "permission": PERMISSION, "log_subject": LOG_SUBJECT,
    "log_change": LOG_CHANGE, "log_field": LOG_FIELD, "weekday": WEEKDAY, "language": LANGUAGE,
}

PLURALS: Final[dict[str, Plural]] = {
    "working_hours_left": Plural(
        ar={"zero": "أقل من ساعة عمل", "one": "باقي ساعة عمل واحدة", "two": "باقي ساعتا عمل",
            "few": "باقي {n} ساعات عمل", "many": "باقي {n} ساعة عمل",
            "other": "باقي {n} ساعة عمل"},
        en={"one": "{n} working hour left", "other": "{n} working hours left"},
    ),
    "working_days_left": Plural(
        ar={"one": "باقي يوم عمل واحد", "two": "باقي يوما عمل", "few": "باقي {n} أيام عمل",
            "many": "باقي {n} يوم عمل", "other": "باقي {n} يوم عمل"},
        en={"one": "{n} working day left", "other": "{n} working days left"},
    ),
    "working_days": Plural(
        ar={"one": "يوم عمل واحد", "two": "يوما عمل", "few": "{n} أيام عمل",
            "many": "{n} يوم عمل", "other": "{n} يوم عمل"},
        en={"one": "{n} working day", "other": "{n} working days"},
    ),
    "requests": Plural(
        ar={"zero": "لا طلبات", "one": "طلب واحد", "two": "طلبان", "few": "{n} طلبات",
            "many": "{n} طلباً", "other": "{n} طلب"},
        en={"one": "{n} request", "other": "{n} requests"},
    ),
}


def word(key: str, language: Language) -> str:
    return WORDS[key].in_(language)


def label(vocabulary: str, value: str | None, language: Language) -> str:
    """A code as staff read it; an unknown code is shown as it is rather than hidden."""
    if value is None:
        return ""
    found = VOCABULARIES[vocabulary].get(value)
    return found.in_(language) if found else value
