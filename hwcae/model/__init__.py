"""The float compressive autoencoder (torch): architecture YAMLs, the model, training, checkpoints."""
