"""The learning loop: feedback from Remediations into the store, retraining, and the model hot swap."""
