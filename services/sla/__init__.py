"""The sla service: SLA — working-day clock and escalation."""
