"""Demo staff: one account per role and scope, all with the same published password.

For the embedded mode (`make run`), `make up` and tests only: `RoutingSettings.demo_staff` is
on by default outside production and refused in production. Usernames follow the directory:

| username | role | scope |
|---|---|---|
| `cmu.admin` | CMU administrator | everything |
| `cmu.staff` | CMU staff | everything |
| `decision.maker` | decision maker (PM's office) | everything, read only |
| `commission` | the integrity commission's account | its inbox (integrity) |
| `call.center` | call-center agent | submissions on behalf of callers (intake) |
| `complaint.box` | complaint-box clerk | paper requests (intake) |
| `operator` | operator | the simulated clock (`POST /api/v1/ops/clock/advance`), nothing else |
| `mlo.<sector>` e.g. `mlo.moh` | main liaison officer | the sector |
| `minister.<sector>` e.g. `minister.moh` | minister | the sector |
| `slo.<entity>` e.g. `slo.moh-hq` | sub-liaison officer | the entity |
| `head.<entity>` e.g. `head.moh-hq` | entity head | the entity |

Every demo account's password is `DEMO_PASSWORD`; ids are stable (`demo_person_id(username)`).
The operator is no staff member (`STAFF_ROLES`): no role can be granted to it through the API,
so it exists only where demo staff do, never in production.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from shared.events.vocabulary import Role

DEMO_PASSWORD: Final = "Bekhedmetkom-Demo-2030"
_NAMESPACE: Final = uuid.UUID("5b0f7a4e-6a43-4a8e-9a35-7f1f0de8c2a1")


def demo_person_id(username: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, username)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    username: str
    full_name: str
    role: Role
    sector: str | None = None
    entity: str | None = None

    @property
    def id(self) -> uuid.UUID:
        return demo_person_id(self.username)

    @property
    def email(self) -> str:
        return f"{self.username}@demo.bekhedmetkom.jo"


_EVERYWHERE: Final = (
    DemoPerson("cmu.admin", "مسؤول وحدة الشكاوى (تجريبي)", Role.cmu_admin),
    DemoPerson("cmu.staff", "موظف وحدة الشكاوى (تجريبي)", Role.cmu_staff),
    DemoPerson("decision.maker", "صانع قرار (تجريبي)", Role.decision_maker),
    DemoPerson("commission", "هيئة النزاهة ومكافحة الفساد (تجريبي)", Role.integrity_commission),
    DemoPerson("call.center", "موظف مركز الاتصال (تجريبي)", Role.call_center_agent),
    DemoPerson("complaint.box", "موظف صناديق الشكاوى (تجريبي)", Role.complaint_box_clerk),
)
# Added after the others: a development database seeded before it has its own claim for it.
DEMO_OPERATOR: Final = DemoPerson("operator", "مشغّل المنصة (تجريبي)", Role.operator)


def demo_people(sector_codes: Iterable[str], entity_codes: Iterable[str]) -> Iterator[DemoPerson]:
    yield from _EVERYWHERE
    for code in sector_codes:
        name = code.lower()
        yield DemoPerson(f"mlo.{name}", f"ضابط الارتباط الرئيسي {code} (تجريبي)",
                         Role.main_liaison_officer, sector=code)
        yield DemoPerson(f"minister.{name}", f"وزير {code} (تجريبي)", Role.minister, sector=code)
    for code in entity_codes:
        name = code.lower()
        yield DemoPerson(f"slo.{name}", f"ضابط ارتباط {code} (تجريبي)",
                         Role.sub_liaison_officer, entity=code)
        yield DemoPerson(f"head.{name}", f"رئيس {code} (تجريبي)", Role.entity_head, entity=code)


def demo_phone(index: int) -> str:
    """Numbers in a block no operator assigns to a person (+962 79 000 xxxx)."""
    return f"+96279000{index:04d}"
