"""SMS and Notifications: outbox, sender, event messages, reminders, gateway setup."""
