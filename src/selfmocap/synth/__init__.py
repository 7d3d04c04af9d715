"""SURREAL-like synthetic clips: motion, scene sampling, rendering and ground truth."""
