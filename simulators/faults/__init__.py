"""Fault injection: one catalogue of faults, their triggers, and what applies them.

``catalogue`` is the table (service, kind) in each protocol's own terms;
``triggers`` decide which requests a fault acts on (window, first N, every Nth,
one mailbox, a seeded probability); ``injector`` holds the faults in force;
``http`` applies them to EWS, WebDAV, OWA and the PBX API, ``smtp`` to the SMTP
sink, ``gates`` shuts ports for ``refused``. Scenario ``fault:`` steps, the
control API and the pytest ``faults`` fixture all use this one vocabulary.
"""
