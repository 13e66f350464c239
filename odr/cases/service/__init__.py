"""Electronic service with proof (电子送达): where each party accepts service, every formal notice
served to those addresses with a per-recipient link, what the carrier accepted and when the person
first opened it; reminders that escalate while the respondent stays silent, and the record that
they did not respond once the deadline passed."""
