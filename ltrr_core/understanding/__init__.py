"""Query understanding: normalization, typo correction, interpretations with likelihoods."""
