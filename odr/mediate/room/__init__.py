"""The case room: joint and private threads, and evidence."""
