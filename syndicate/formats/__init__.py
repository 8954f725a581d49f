"""Pure feed builders: (FeedSpec, articles) -> bytes. No clock, no I/O."""
