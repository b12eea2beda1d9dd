"""What notify holds beside the kernel's runtime, and how its routes reach it (`NotifyDep`):
the renderer of messages (its templates compiled once per process, for the dispatcher's lanes and
the officers' previews alike) and, where the workers run, the dispatcher itself (operations and
tests look at its lanes). `main.open_notify` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from services.notify.dispatcher import Dispatcher, Renderer
from shared.dependencies import resources


@dataclass(slots=True)
class Notify:
    renderer: Renderer
    dispatcher: Dispatcher | None = None  # set by the `dispatch` loop, where workers run


NotifyDep = Annotated[Notify, resources(Notify)]
