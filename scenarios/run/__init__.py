"""Running one scenario: the simulators' environment, the frozen clock that drives
engine, Exchange and PBX, and the call, mail and contact sides of a run."""
