"""The intake service: Intake — citizens, submissions, reference numbers."""
