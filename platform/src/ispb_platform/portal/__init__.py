"""The customer portal: each operator's customers sign in at /portal/<operator-slug>/."""
