"""Time-frozen scenarios: the engine and the simulators run together on one clock.

The parts, each a subpackage:

- ``scenarios.format``: the scenario file format (YAML nodes with lines, the loader
  and its ``FILE:LINE`` errors, the typed model, steps, appointments, times). A new
  step kind starts here.
- ``scenarios.run``: running one scenario (the runner and its clock, the call, mail
  and contact sides, the simulators' environment, the in-process PBX gateway).
- ``scenarios.outputs``: what a run is rendered into (the text timeline).
- ``scenarios.commands``: the ``harness`` command and what it serves (``serve``, the
  control API, the PBX's Exchange directory).
- ``scenarios.plugin``: the pytest plugin collecting ``*.yaml`` scenario files.
- ``scenarios/library/``: the scenario files, one behaviour each.
"""
