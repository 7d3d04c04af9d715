#!/usr/bin/env bash
# The test command: set up (first run only) and run the whole test suite.
source "$(dirname "$0")/setup.sh"
exec python -m pytest -q "$@"
