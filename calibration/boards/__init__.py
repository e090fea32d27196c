"""Real local boards: timing torch modules on this machine."""
