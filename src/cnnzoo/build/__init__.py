"""Building models: ``create()``, weights sources, checkpoints, features and heads."""
