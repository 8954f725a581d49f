"""The companion fetcher: outside feeds into the "Latest News" sidebar.

Split by verb, as Miniflux and lemon24/reader do: retrieve (HTTP, behind
the SSRF guard), parse (bytes -> FeedData: decode, repair, then xmlfeed or
jsonfeed), clean (FeedData -> safe entries), schedule (when next), and one
runner that ties them to the store and decides nothing itself.
"""
