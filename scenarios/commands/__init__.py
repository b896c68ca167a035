"""The ``harness`` command line and what its commands serve: the simulators in real
time (``serve``), the control API beside them and the PBX's Exchange directory."""
