"""Evidence: rate-distortion tables against the baselines, the external suite, robustness,
spike-sorting impact, float vs fixed point and the HTML report."""
