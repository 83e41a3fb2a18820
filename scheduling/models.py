"""Session types, availability, sessions, notifications and calendar connections (later issues)."""
