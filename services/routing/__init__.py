"""The routing service: Routing — directory and case handling."""
