"""calibration package of hwnas."""
