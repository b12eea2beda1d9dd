"""The analytics service: Analytics — KPIs, reports, dashboard."""
