"""Preferences: the AI-use vocabulary and the append-only history of statements."""
