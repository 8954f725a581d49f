#
# Varnish 7 in front of syndicate, with surrogate-key purges (xkey vmod).
#
# Needs Debian's varnish and varnish-modules (for xkey). Run it with:
#
#   varnishd -a :80 -f /etc/varnish/default.vcl -s malloc,256m \
#            -p http_gzip_support=off
#
# -p http_gzip_support=off is required, not a tuning knob. With it on (the
# default) Varnish asks the origin for gzip whatever the client said, keeps
# one gzip copy and gunzips it for every client that takes no gzip: 0.12x the
# speed of nginx on plain requests here. With it off, and Accept-Encoding
# normalised below to one of br, gzip or nothing, Varnish keeps one object
# per coding, each exactly as syndicate made it (with its own ETag: "X",
# "X-gzip", "X-br"), and a client's conditional request is answered from the
# object of its own coding.
#
# What syndicate needs from it:
# - Revalidation: objects are kept (beresp.keep) after they expire, so
#   Varnish asks the origin with If-None-Match / If-Modified-Since and a 304
#   refreshes the stored copy without sending the body again.
# - Stale on origin errors and while updating: an expired object is served
#   within its grace while one background fetch refreshes it; a background
#   fetch that fails (origin down, 5xx) is abandoned, so the stale copy stays.
# - Purges: syndicate's leader sends PURGE with an "xkey-purge: k1 k2 ..."
#   header on every change ([cache] purge_urls); "xkey-softpurge" expires
#   instead (objects stay usable as stale). Only addresses in the purgers
#   ACL may purge.
# - Never cached: /admin, /api, /websub (and /healthz, /metrics), nor a 404
#   or an error.
# - The HTML page a browser gets at a feed's URL kept apart from the feed
#   (vcl_recv and vcl_hash below).
#
# The tests (tests/test_front_caches.py) run this very file with only the
# backend's .host and .port replaced.

vcl 4.1;

import xkey;

backend syndicate {
    .host = "127.0.0.1";
    .port = "8080";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
}

# Who may purge: loopback, plus the addresses of the syndicate servers.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.xkey-purge) {
            set req.http.n-gone = xkey.purge(req.http.xkey-purge);
        } elsif (req.http.xkey-softpurge) {
            set req.http.n-gone = xkey.softpurge(req.http.xkey-softpurge);
        } else {
            return (synth(400, "PURGE needs an xkey-purge or xkey-softpurge header"));
        }
        return (synth(200, "Purged " + req.http.n-gone + " objects"));
    }

    # Editors, the CMS's API and WebSub subscriptions go straight to the origin.
    if (req.url ~ "^/(admin|api|websub|healthz|metrics)([/?]|$)") {
        return (pass);
    }

    # One object per coding: br, gzip or identity. Clients send dozens of
    # spellings ("gzip, deflate, br", "br;q=1.0, gzip;q=0.8, *;q=0.1"); the
    # origin picks the same coding from the normalised value.
    if (req.http.Accept-Encoding ~ "(?i)(^|,)\s*br\s*(,|$|;\s*q=(1|0\.[0-9]*[1-9]))") {
        set req.http.Accept-Encoding = "br";
    } elsif (req.http.Accept-Encoding ~ "(?i)(^|,)\s*gzip\s*(,|$|;\s*q=(1|0\.[0-9]*[1-9]))") {
        set req.http.Accept-Encoding = "gzip";
    } else {
        unset req.http.Accept-Encoding;
    }

    # A browser navigating to a feed URL gets the feed's HTML page, everyone
    # else the feed (README, "Feeds in a browser"). Decided here, once, on
    # the same rule as the origin's (a navigation whose Accept starts with
    # text/html, as every browser's does): the origin is then sent either
    # "Sec-Fetch-Dest: document" with "Accept: text/html", or no
    # Sec-Fetch-Dest at all, so its choice is the one hashed in vcl_hash and
    # a hand-made request cannot file a feed under the page or the reverse.
    if (req.http.Sec-Fetch-Dest == "document" &&
            req.http.Accept ~ "(?i)^\s*text/html\s*(,|$)") {
        set req.http.Accept = "text/html";
    } else {
        unset req.http.Sec-Fetch-Dest;
    }

    # Public documents: a browser's cookie (an editor's session) must not
    # make every feed request a pass.
    if (req.method == "GET" || req.method == "HEAD") {
        unset req.http.Cookie;
    }
}

sub vcl_hash {
    # The URL and host as usual; variants per coding come from the origin's
    # "Vary: Accept-Encoding" on the normalised header.
    hash_data(req.url);
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    # The feed's HTML page for browsers, kept apart from the feed's bytes
    # (vcl_recv left Sec-Fetch-Dest only on navigations that get the page).
    if (req.http.Sec-Fetch-Dest == "document") {
        hash_data("feed-page");
    }
    return (lookup);
}

sub vcl_backend_response {
    if (bereq.url ~ "^/(admin|api|websub|healthz|metrics)([/?]|$)") {
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    # The origin failed while a stale copy was being refreshed: keep the copy.
    if (beresp.status >= 500 && bereq.is_bgfetch) {
        return (abandon);
    }
    # Not found and errors are never kept: the feed of a new tag or author
    # must show with its first article (a 404 carries no keys to purge it by).
    if (beresp.status == 404 || beresp.status == 410 || beresp.status >= 500) {
        set beresp.ttl = 1s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # Serve a copy up to a day past its max-age while the origin is
    # refreshing it or down; keep it three days more to revalidate with its
    # ETag and Last-Modified (a 304 costs the origin no body).
    set beresp.grace = 24h;
    set beresp.keep = 72h;
}

sub vcl_backend_error {
    # The origin is unreachable while a stale copy was being refreshed: keep it.
    if (bereq.is_bgfetch) {
        return (abandon);
    }
}

sub vcl_deliver {
    # Surrogate keys are for caches, not for readers.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
    unset resp.http.Cache-Tag;
}
