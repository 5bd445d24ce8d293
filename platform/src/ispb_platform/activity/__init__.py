"""The activity log: who did what, when and from where. Every domain records through ``service.record_activity``."""
