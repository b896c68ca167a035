"""``harness bench``: the engine against the simulators at scale, measured.

``population`` builds the benchmark organisation (N mailboxes, their PBX users),
``simulator`` and ``engine`` are the two sides, each run in processes of their own
(``multiprocessing`` spawn) so that each side's CPU is its own process counters;
``figures`` holds the arithmetic and the machine facts (load, RSS, listen drops);
``scenarios.commands.bench`` drives them and prints and writes the figures.
"""
