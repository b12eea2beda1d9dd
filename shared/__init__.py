"""The kernel every Bekhedmetkom service stands on.

Settings, database sessions, the event envelope and catalog, the bus with its outbox and inbox,
token verification, the clock, problem+json errors, logging, health and metrics. Nothing here
knows about any one service: services import `shared`, never each other.
"""
