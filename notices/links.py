"""The one-link rule for messages: SMS and WhatsApp texts may name no address but the official
portal's, as the police advise the public (anything else is a scam).

A "link" is whatever a phone would make tappable: `scheme://...`, `www.`..., or a bare
`name.tld/...` where the last label is a country code (two letters) or a common generic
top-level domain. Checked on the final text of every message before it leaves, so neither a
template edit nor odd data (a place name with a domain in it) can slip a foreign link through.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_GENERIC_TLDS = (
    "com|net|org|info|biz|xyz|top|site|online|app|dev|link|click|live|shop|store|club|"
    "website|space|fun|icu|vip|cc|tv|me|io|co|ly|gov|edu|mil|int|asia|mobi|pro|name|page|"
    "cloud|tech|digital|news|blog|web|win|bid|loan|work|today|world|email|support|help|"
    "services|center|network|systems|solutions|bank|pay|money|finance|link"
)
_LINK = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]*://[^\s<>\"']+"  # scheme://anything
    r"|www\.[^\s<>\"']+"  # www.anything
    r"|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z]{2}|" + _GENERIC_TLDS + r")\b"
    r"(?:[/?#:][^\s<>\"']*)?)"  # bare domain[/path]
)


def _host(link: str) -> str:
    candidate = link if "://" in link else f"http://{link}"
    return (urlsplit(candidate).hostname or "").lower().rstrip(".")


def portal_host(portal_url: str) -> str:
    return _host(portal_url)


def foreign_links(text: str, portal_url: str) -> list[str]:
    """Links in `text` that do not lead to the official portal's host."""
    allowed = portal_host(portal_url)
    found = []
    for match in _LINK.finditer(text):
        link = match.group(0).rstrip(".,;:!?)")
        if _host(link) != allowed:
            found.append(link)
    return found
