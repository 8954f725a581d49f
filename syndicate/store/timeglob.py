"""The one spelling of a stored time, as the GLOB pattern the schema's CHECKs use.

Timestamps are TEXT in one fixed-width UTC spelling
(syndicate.models.to_store_time), so text order is time order; the CHECKs
keep another writer (the CMS) from slipping in a spelling that sorts wrongly.
"""

TIME_GLOB = "'[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'"
