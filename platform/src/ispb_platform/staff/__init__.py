"""Settings → Staff Users: an operator admin manages the people who work in the operator's panel."""
