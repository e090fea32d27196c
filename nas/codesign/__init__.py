"""Hardware/network co-design: search (architecture, accelerator) pairs together (issue 16)."""
