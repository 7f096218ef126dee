"""Describe: what an event is made of (families, date, headline, summary, keyphrases, entities)."""
