"""The integrity service: Integrity — sealed corruption reports."""
