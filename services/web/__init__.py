"""The web app: every page a person opens, server-rendered, Arabic first.

It owns only staff web sessions and speaks to the platform only through the gateway's public
API, like any client (`services.web.platform`), so no page can do what a client could not.
"""
