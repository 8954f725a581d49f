"""WebSub (W3C Recommendation, 2018): the built-in hub's engine, and announcing to an outside one.

``rules`` holds the Recommendation's rules as pure functions; ``client`` the
guarded HTTP client for callbacks and hubs; ``verify`` verification of
intent (any worker); ``deliver`` content distribution and ``announce`` the
outside hub's publish pings (the leader, on the change door). The HTTP
endpoint is syndicate.web.websub; the subscriptions and queues are
syndicate.store.websub.
"""
