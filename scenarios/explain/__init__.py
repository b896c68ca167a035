"""Engine decisions turned into sentences (reads ``integration.decisions`` data; no I/O).

``sentences`` words one decision; ``around`` picks the decisions that explain a
user's presence at an instant (for a failed expectation) and writes the per-poll
trace of ``harness run --explain USER``.
"""
