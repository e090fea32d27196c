"""spaces package of hwnas."""
