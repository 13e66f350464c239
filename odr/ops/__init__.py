"""Center operations: dashboard figures, early warnings, transfer response times, weekly report."""
