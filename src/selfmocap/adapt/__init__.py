"""Self-supervised test-time adaptation: inputs a method may see, the objective, and the loop."""
