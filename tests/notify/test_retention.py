"""Retention: a message past its period keeps its record but forgets its address and words."""

from __future__ import annotations

from datetime import timedelta

from services.notify.main import dispatcher_of
from services.notify.models import DeliveryStatus
from shared.events.vocabulary import Role
from tests.notify import factories as f
from tests.notify.conftest import Notify
from tests.notify.test_delivery import statuses_become
from tests.platform import eventually

RETENTION = timedelta(days=180)  # the default


async def test_finished_messages_forget_address_and_words_after_the_retention_period(
    notify: Notify,
) -> None:
    person = f.citizen()
    await notify.publish(person)
    sent = f.submitted(person.citizen_id)
    await notify.publish(sent)
    (delivered,) = await statuses_become(notify, [DeliveryStatus.delivered],
                                         reference=sent.reference)
    notify.gateway.fail_next(3, 503)  # max attempts is 3 in these tests
    failed = f.submitted(person.citizen_id)
    await notify.publish(failed)
    (dead,) = await statuses_become(notify, [DeliveryStatus.dead_lettered],
                                    reference=failed.reference)
    assert delivered.address == dead.address == person.phone
    assert delivered.context != {}

    notify.clock.advance(RETENTION - timedelta(hours=1))
    await dispatcher_of(notify.runtime).forget_past_retention()
    assert [row.address for row in await notify.rows()] == [person.phone, person.phone]

    notify.clock.advance(timedelta(hours=2))

    async def forgotten() -> None:
        rows = await notify.rows()
        assert [(row.address, row.context) for row in rows] == [("", {}), ("", {})]
        assert [row.status for row in rows] == [DeliveryStatus.delivered,
                                                DeliveryStatus.dead_lettered]
    await eventually(forgotten)

    cmu = notify.auth(Role.cmu_staff)
    log = (await notify.client.get("/api/v1/notifications", headers=cmu)).json()
    assert [(item["to"], item["forgotten"]) for item in log["items"]] == [("", True), ("", True)]
    retried = await notify.client.post(f"/api/v1/notifications/{dead.id}/retry", headers=cmu)
    assert retried.status_code == 410
    assert retried.headers["content-type"] == "application/problem+json"
    assert retried.json()["type"].endswith("/notification-forgotten")
    (still_dead,) = await notify.rows(reference=failed.reference)
    assert still_dead.status == DeliveryStatus.dead_lettered

    fresh = f.submitted(person.citizen_id)
    await notify.publish(fresh)
    (kept,) = await statuses_become(notify, [DeliveryStatus.delivered], reference=fresh.reference)
    assert kept.address == person.phone


async def test_a_message_still_queued_is_never_forgotten(notify: Notify) -> None:
    dispatcher = dispatcher_of(notify.runtime)
    await dispatcher.stop()  # nothing is sent: the message stays queued
    person = f.citizen()
    await notify.publish(person)
    waiting = f.submitted(person.citizen_id)
    await notify.publish(waiting)
    await statuses_become(notify, [DeliveryStatus.queued], reference=waiting.reference)
    notify.clock.advance(RETENTION * 2)
    assert await dispatcher.forget_past_retention() == 0
    (row,) = await notify.rows(reference=waiting.reference)
    assert row.address == person.phone
    assert row.context != {}
