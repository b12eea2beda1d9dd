"""The notify service: Notify — SMS and email."""
