"""Real video in, animation-ready 3D out: ``selfmocap capture`` and ``selfmocap demo``."""
