"""Identity: password hashing now; sign-in, sessions, roles and guards build on it."""
