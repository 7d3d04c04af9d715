"""Real video in, animation-ready 3D out: ``selfmocap capture`` and ``selfmocap demo``."""

import os

# OpenCV's FFmpeg backend reads its log level once, at its first use in the process: keep its
# decoder chatter out of the terminal (errors are reported by selfmocap itself).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
