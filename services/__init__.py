"""The six services of Bekhedmetkom; each folder is one service with its own tables and migrations.

Services never import each other: they learn by events and ask over HTTP. `SERVICES` is the one
list of them, used by the command line (`python -m services`) and the embedded mode.
"""

SERVICES = ("intake", "routing", "sla", "notify", "integrity", "analytics")
