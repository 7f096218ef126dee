"""The HTTP side of storyline: one FastAPI app serving a JSON API under ``/api`` and
server-rendered web pages on the same resources (events, stories, articles, search).

:mod:`.app` builds the app (:func:`~storyline.http.app.create_app`); :mod:`.state` holds what
requests share and who may write; :mod:`.routes` are the JSON routes and :mod:`.pages` the
HTML ones, both reading through :mod:`.queries`; :mod:`.render` renders the templates;
:mod:`.errors` answers every error with one JSON envelope (or an HTML page for a browser);
:mod:`.middleware` limits request bodies and sets security headers.
"""
