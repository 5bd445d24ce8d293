"""The operator panel's frame: dashboard, logs, automation overview and the sections not configured yet."""
