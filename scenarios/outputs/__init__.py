"""What a scenario run is rendered into for people and tools (the text timeline)."""
