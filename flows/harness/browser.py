"""Chromium as the UI tests and the guides' captures start it, on a closed network.

Without these switches Chromium keeps trying to reach Google's hosts, which this network refuses.
"""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
