"""Prepare: from an article to a prepared one (cleaning, language, title, sentences, dates, entities)."""
