"""Fakes of everything the PBX's Exchange integration talks to.

Exchange 2007 (one store, EWS and WebDAV/OWA front ends), an SMTP sink and a PBX.
Importing this package installs the spyne compatibility shim first, so any
``import spyne`` below works on Python 3.12+.
"""

from simulators import _spyne_compat

_spyne_compat.install()
