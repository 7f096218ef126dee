"""Stories: events linked into stories over time."""
