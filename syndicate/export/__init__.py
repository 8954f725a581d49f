"""Static export: every document the site publishes as files, kept current (``syndicate export``).

- :mod:`~syndicate.export.files`: the export directory, written atomically, and its
  manifest (path to file, content type, ETag, headers, codings) and nginx maps;
- :mod:`~syndicate.export.run`: what is exported, the full export, and ``--watch``
  through a change door of its own.

Builds through syndicate.documents like the server, so the files are its bytes.
No aiohttp, no HTTP at all.
"""
