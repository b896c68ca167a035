"""The Exchange 2007 WebDAV front end over the shared store (/exchange/, /public/).

``WebDavFrontEnd(store, auth)`` is the WSGI app the site mounts at both /exchange/
and /public/; ``auth`` is the site's ``SiteAuth`` (Basic or OWA forms log-in, shared
with /owa/). Modules: ``app`` (dispatch and Exchange-shaped answers), ``locate``
(URLs to folders and items), ``props``/``rows`` (property values), ``search``
(SEARCH with the SQL of ``sql``), ``writes`` (PROPPATCH/DELETE/GET), ``ical``
(items as MIME with iCalendar), ``provider``/``scratch`` (wsgidav resources),
``xmlio`` (safe parsing, 207 writing).
"""

from simulators.exchange.webdav.app import WebDavFrontEnd

WEBDAV_PREFIXES = ("/exchange/", "/public/")

__all__ = ["WEBDAV_PREFIXES", "WebDavFrontEnd"]
