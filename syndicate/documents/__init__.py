"""Every document syndicate serves, built without a web server.

- :mod:`~syndicate.documents.build`: ``build_document(config, store, key, now)``
  for every cached document (each feed page in each format, /feeds,
  /feeds.opml, the sidebar HTML and JSON);
- :mod:`~syndicate.documents.rendered`: the built value, its compressed forms
  and its ETag;
- :mod:`~syndicate.documents.headers`: every cache header;
- :mod:`~syndicate.documents.cache`: built documents kept until they change;
- :mod:`~syndicate.documents.changes`: the one door for "it changed".

Nothing in this package imports aiohttp (tests/test_architecture.py).
"""
