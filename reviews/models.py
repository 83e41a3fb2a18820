"""Reviews and ratings (a later issue)."""
