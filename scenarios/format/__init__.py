"""The scenario file format: YAML with lines -> a validated ``Scenario`` (see
docs/scenario-format.md). Reading only; nothing here runs or talks to a server."""
