"""The operator panel's frame: Overview, Automation and the sections not configured yet (the Activity Log is
``activity/``)."""
