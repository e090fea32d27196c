"""nas package of hwnas."""
